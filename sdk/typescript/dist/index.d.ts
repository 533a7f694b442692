import { type Client, type ClientOptions } from "openapi-fetch";
import type { components, paths } from "./schema.js";
export type { components, operations, paths } from "./schema.js";
/** The contract's schemas, by name: `Schemas["User"]`, `Schemas["TokenResponse"]`, … */
export type Schemas = components["schemas"];
export type TokenRequest = Schemas["TokenRequest"];
export type TokenResponse = Schemas["TokenResponse"];
export type OAuthError = Schemas["OAuthError"];
export type Problem = Schemas["Problem"];
/** The typed client: `GET`, `POST`, … on the contract's paths. */
export type GatehouseClient = Client<paths>;
export interface GatehouseOptions extends ClientOptions {
    /** The server's base URL, e.g. https://auth.example.com. */
    baseUrl: string;
    /**
     * An access token (or a function that returns the current one), sent as
     * `Authorization: Bearer`. Tokens stay where the caller keeps them.
     */
    accessToken?: string | (() => string | undefined);
    /** An API key, sent as `X-API-Key`. */
    apiKey?: string;
}
/** createGatehouseClient returns a typed client for the server at baseUrl. */
export declare function createGatehouseClient(options: GatehouseOptions): GatehouseClient;
/** formBody encodes an RFC 6749 request body (application/x-www-form-urlencoded). */
export declare function formBody(body: Record<string, string | undefined>): string;
/** Client credentials sent with HTTP Basic (client_secret_basic, RFC 6749 §2.3.1). */
export interface BasicClient {
    clientId: string;
    clientSecret: string;
}
/**
 * requestToken calls POST /oauth/token form-encoded, as RFC 6749 asks,
 * optionally authenticating a confidential client with HTTP Basic. It
 * answers openapi-fetch's `{data, error, response}`.
 */
export declare function requestToken(client: GatehouseClient, body: TokenRequest, basic?: BasicClient): Promise<import("openapi-fetch").FetchResponse<{
    parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
    };
    requestBody: {
        content: {
            "application/x-www-form-urlencoded": components["schemas"]["TokenRequest"];
            "application/json": components["schemas"]["TokenRequest"];
        };
    };
    responses: {
        200: {
            headers: {
                "Cache-Control": components["headers"]["NoStore"];
                Pragma: components["headers"]["NoCache"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["TokenResponse"];
            };
        };
        400: components["responses"]["OAuthBadRequest"];
        401: components["responses"]["OAuthInvalidClient"];
        403: {
            headers: {
                "Cache-Control": components["headers"]["NoStore"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["MFARequiredError"];
            };
        };
        413: components["responses"]["OAuthTooLarge"];
        429: components["responses"]["OAuthTooManyRequests"];
        431: components["responses"]["OAuthHeaderTooLarge"];
        500: components["responses"]["OAuthServerError"];
        503: components["responses"]["OAuthUnavailable"];
    };
}, {
    body: {
        grant_type: "password" | "refresh_token" | "client_credentials" | "http://auth0.com/oauth/grant-type/mfa-otp" | "http://auth0.com/oauth/grant-type/mfa-recovery-code" | "authorization_code";
        code?: string;
        redirect_uri?: string;
        code_verifier?: string;
        username?: string;
        password?: string;
        scope?: string;
        client_id?: string;
        client_secret?: string;
        client_assertion_type?: components["schemas"]["ClientAssertionType"];
        client_assertion?: components["schemas"]["ClientAssertion"];
        refresh_token?: string;
        mfa_token?: string;
        otp?: string;
        recovery_code?: string;
    };
    headers: Record<string, string>;
    bodySerializer: (b: {
        grant_type: "password" | "refresh_token" | "client_credentials" | "http://auth0.com/oauth/grant-type/mfa-otp" | "http://auth0.com/oauth/grant-type/mfa-recovery-code" | "authorization_code";
        code?: string;
        redirect_uri?: string;
        code_verifier?: string;
        username?: string;
        password?: string;
        scope?: string;
        client_id?: string;
        client_secret?: string;
        client_assertion_type?: components["schemas"]["ClientAssertionType"];
        client_assertion?: components["schemas"]["ClientAssertion"];
        refresh_token?: string;
        mfa_token?: string;
        otp?: string;
        recovery_code?: string;
    }) => string;
}, `${string}/${string}`>>;
