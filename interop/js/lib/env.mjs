// What contract_test's TestJavaScriptClients hands the tests: a gatehouse
// started as a user starts it (no --issuer), and what it created there.
import * as client from 'openid-client';

function need(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: these tests run from contract_test (go test ./contract_test/ -run TestJavaScriptClients)`);
  }
  return v;
}

export const env = {
  // The base URL the server logged; with the default issuer, the issuer too.
  url: need('INTEROP_URL'),
  adminUsername: need('INTEROP_ADMIN_USERNAME'),
  adminPassword: need('INTEROP_ADMIN_PASSWORD'),
  // A user who is a member of both the default and the other application.
  username: need('INTEROP_USERNAME'),
  password: need('INTEROP_PASSWORD'),
  defaultClientId: need('INTEROP_DEFAULT_CLIENT_ID'),
  defaultAudience: need('INTEROP_DEFAULT_AUDIENCE'),
  otherClientId: need('INTEROP_OTHER_CLIENT_ID'),
  otherAudience: need('INTEROP_OTHER_AUDIENCE'),
};

// discover is openid-client's discovery from the server's URL, as its
// README shows it (http needs allowInsecureRequests), for clientId.
export function discover(clientId = env.defaultClientId) {
  return client.discovery(new URL(env.url), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
}

// passwordLogin runs the password grant through openid-client.
export function passwordLogin(config, username = env.username, password = env.password) {
  return client.genericGrantRequest(config, 'password', { username, password });
}

// audiences is a token's aud as a list: a string or an array (RFC 7519).
export function audiences(payload) {
  return [payload.aud].flat();
}

// rejection is the error promise rejects with; it fails when it resolves.
export async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('resolved, want a rejection');
}

// api calls gatehouse's own API with plain fetch and returns the response
// and its parsed JSON body (null when there is none).
export async function api(method, path, { token, body } = {}) {
  const headers = { accept: 'application/json, application/problem+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, env.url), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = /json/.test(res.headers.get('content-type') ?? '') && text ? JSON.parse(text) : null;
  return { res, json, text };
}
