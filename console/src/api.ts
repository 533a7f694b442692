// The console's one door to gatehouse: a typed openapi-fetch client over
// the contract's paths (the types sdk/typescript generates from
// openapi.yaml), and the session. Tokens live in this module's variables
// only: never localStorage, sessionStorage or a cookie.
import createClient from "openapi-fetch";
import type { components, paths } from "../../sdk/typescript/src/schema";

export type Schemas = components["schemas"];
export type FieldError = Schemas["FieldError"];

export const api = createClient<paths>({ baseUrl: location.origin });

let accessToken: string | undefined;
let refreshToken: string | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let onSignedOut: () => void = () => {};

api.use({
  onRequest({ request }) {
    if (accessToken && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${accessToken}`);
    }
    return request;
  },
});

/** Problem is what the console shows of a failed call. */
export interface Problem {
  message: string;
  fields: Record<string, string>;
}

/** problemOf reads a problem+json, an OAuth error or anything else thrown. */
export function problemOf(err: unknown, status?: number): Problem {
  const fields: Record<string, string> = {};
  const e = (err ?? {}) as Record<string, unknown>;
  const list = Array.isArray(e.errors) ? (e.errors as FieldError[]) : [];
  for (const fe of list) {
    if (!fe.field) continue;
    // An error inside a list or object ("scopes.1", "keys.0.kid") shows
    // beside the top-level field, naming where it is.
    const [top, ...inner] = fe.field.split(".");
    const m = inner.length ? `${inner.join(".")}: ${fe.message}` : fe.message;
    fields[top] = fields[top] ? `${fields[top]}; ${m}` : m;
  }
  const message =
    (typeof e.detail === "string" && e.detail) ||
    (typeof e.error_description === "string" && e.error_description) ||
    (typeof e.title === "string" && e.title) ||
    (typeof e.error === "string" && e.error) ||
    (err instanceof Error ? err.message : `request failed${status ? ` (${status})` : ""}`);
  return { message, fields };
}

/** must returns a call's data or throws its Problem. */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw problemOf(error, response.status);
  return data as T;
}

function keep(t: Schemas["TokenResponse"]) {
  accessToken = t.access_token;
  if (t.refresh_token) refreshToken = t.refresh_token;
  clearTimeout(refreshTimer);
  // Refresh a little before the access token expires.
  const ms = Math.max(5, t.expires_in - Math.min(60, t.expires_in / 5)) * 1000;
  refreshTimer = setTimeout(refresh, ms);
}

async function refresh() {
  if (!refreshToken) return;
  const { data, response } = await api.POST("/oauth/token", {
    body: { grant_type: "refresh_token", refresh_token: refreshToken },
  });
  if (response.ok && data) {
    keep(data);
  } else {
    forget();
  }
}

function forget() {
  clearTimeout(refreshTimer);
  accessToken = refreshToken = undefined;
  onSignedOut();
}

export function whenSignedOut(f: () => void) {
  onSignedOut = f;
}

/** SignIn is the outcome of a password: signed in, or a TOTP code needed. */
export type SignIn = { ok: true } | { ok: false; mfaToken: string };

export async function signIn(username: string, password: string): Promise<SignIn> {
  const { data, error, response } = await api.POST("/oauth/token", {
    body: { grant_type: "password", username, password },
  });
  if (response.ok && data) {
    keep(data);
    return { ok: true };
  }
  const e = (error ?? {}) as Record<string, unknown>;
  if (response.status === 403 && e.error === "mfa_required" && typeof e.mfa_token === "string") {
    return { ok: false, mfaToken: e.mfa_token };
  }
  throw problemOf(error, response.status);
}

export async function signInOTP(mfaToken: string, otp: string): Promise<void> {
  keep(
    await must(
      api.POST("/oauth/token", {
        body: { grant_type: "http://auth0.com/oauth/grant-type/mfa-otp", mfa_token: mfaToken, otp },
      }),
    ),
  );
}

/** signOut revokes the refresh token (ending the session) and forgets both. */
export async function signOut(): Promise<void> {
  const token = refreshToken;
  if (token) {
    await api.POST("/oauth/revoke", { body: { token, token_type_hint: "refresh_token" } }).catch(() => {});
  }
  forget();
}
