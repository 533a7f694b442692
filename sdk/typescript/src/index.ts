// The gatehouse TypeScript SDK: the types openapi-typescript generates from
// openapi.yaml (./schema.ts, never edited by hand) and a thin typed fetch
// client over openapi-fetch. Every path, parameter, body and response is
// checked by the compiler against the contract.
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";
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
export function createGatehouseClient(options: GatehouseOptions): GatehouseClient {
  const { accessToken, apiKey, ...rest } = options;
  const client = createClient<paths>(rest);
  if (accessToken !== undefined || apiKey !== undefined) {
    const auth: Middleware = {
      onRequest({ request }) {
        const token = typeof accessToken === "function" ? accessToken() : accessToken;
        if (token && !request.headers.has("Authorization")) {
          request.headers.set("Authorization", `Bearer ${token}`);
        }
        if (apiKey && !request.headers.has("X-API-Key")) {
          request.headers.set("X-API-Key", apiKey);
        }
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}

/** formBody encodes an RFC 6749 request body (application/x-www-form-urlencoded). */
export function formBody(body: Record<string, string | undefined>): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) {
    if (v !== undefined) {
      form.set(k, v);
    }
  }
  return form.toString();
}

/** Client credentials sent with HTTP Basic (client_secret_basic, RFC 6749 §2.3.1). */
export interface BasicClient {
  clientId: string;
  clientSecret: string;
}

function basicHeader(c: BasicClient): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  return "Basic " + btoa(`${enc(c.clientId)}:${enc(c.clientSecret)}`);
}

/**
 * requestToken calls POST /oauth/token form-encoded, as RFC 6749 asks,
 * optionally authenticating a confidential client with HTTP Basic. It
 * answers openapi-fetch's `{data, error, response}`.
 */
export function requestToken(client: GatehouseClient, body: TokenRequest, basic?: BasicClient) {
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (basic) {
    headers["Authorization"] = basicHeader(basic);
  }
  return client.POST("/oauth/token", {
    body,
    headers,
    bodySerializer: (b) => formBody(b as Record<string, string | undefined>),
  });
}
