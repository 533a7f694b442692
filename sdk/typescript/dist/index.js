// The gatehouse TypeScript SDK: the types openapi-typescript generates from
// openapi.yaml (./schema.ts, never edited by hand) and a thin typed fetch
// client over openapi-fetch. Every path, parameter, body and response is
// checked by the compiler against the contract.
import createClient from "openapi-fetch";
/** createGatehouseClient returns a typed client for the server at baseUrl. */
export function createGatehouseClient(options) {
    const { accessToken, apiKey, ...rest } = options;
    const client = createClient(rest);
    if (accessToken !== undefined || apiKey !== undefined) {
        const auth = {
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
export function formBody(body) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) {
        if (v !== undefined) {
            form.set(k, v);
        }
    }
    return form.toString();
}
function basicHeader(c) {
    const enc = (s) => encodeURIComponent(s).replace(/%20/g, "+");
    return "Basic " + btoa(`${enc(c.clientId)}:${enc(c.clientSecret)}`);
}
/**
 * requestToken calls POST /oauth/token form-encoded, as RFC 6749 asks,
 * optionally authenticating a confidential client with HTTP Basic. It
 * answers openapi-fetch's `{data, error, response}`.
 */
export function requestToken(client, body, basic) {
    const headers = { "Content-Type": "application/x-www-form-urlencoded" };
    if (basic) {
        headers["Authorization"] = basicHeader(basic);
    }
    return client.POST("/oauth/token", {
        body,
        headers,
        bodySerializer: (b) => formBody(b),
    });
}
