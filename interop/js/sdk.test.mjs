// The TypeScript SDK (sdk/typescript, compiled with tsc --strict to
// sdk/typescript/dist) against the live server: the typed client, the
// password and client_credentials grants through requestToken, an
// authenticated call and a problem+json error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGatehouseClient, requestToken } from '../../sdk/typescript/dist/index.js';
import { env } from './lib/env.mjs';

test('sdk: password grant, then GET /v1/me with the token', async () => {
  const anon = createGatehouseClient({ baseUrl: env.url });
  const { data, error, response } = await requestToken(anon, {
    grant_type: 'password', username: env.username, password: env.password,
  });
  assert.equal(response.status, 200, JSON.stringify(error));
  assert.equal(data.token_type, 'Bearer');
  const c = createGatehouseClient({ baseUrl: env.url, accessToken: () => data.access_token });
  const me = await c.GET('/v1/me');
  assert.equal(me.response.status, 200);
  assert.equal(me.data.username, env.username);
});

test('sdk: a 401 is the RFC 9457 problem', async () => {
  const anon = createGatehouseClient({ baseUrl: env.url });
  const { data, error, response } = await anon.GET('/v1/users', { params: { query: { limit: 5 } } });
  assert.equal(response.status, 401);
  assert.equal(data, undefined);
  assert.equal(error.status, 401);
  assert.ok(error.title);
});

test('sdk: client_credentials with HTTP Basic; the admin reads the secrets', async () => {
  const anon = createGatehouseClient({ baseUrl: env.url });
  const cc = await requestToken(anon, { grant_type: 'client_credentials', scope: 'orders:read' },
    { clientId: process.env.INTEROP_CC_CLIENT_ID, clientSecret: process.env.INTEROP_CC_CLIENT_SECRET });
  assert.equal(cc.response.status, 200, JSON.stringify(cc.error));
  assert.equal(cc.data.scope, 'orders:read');
  assert.equal(cc.data.refresh_token, undefined);
  const wrong = await requestToken(anon, { grant_type: 'client_credentials' },
    { clientId: process.env.INTEROP_CC_CLIENT_ID, clientSecret: 'wrong' });
  assert.equal(wrong.response.status, 401);
  assert.equal(wrong.error.error, 'invalid_client');

  const login = await requestToken(anon, { grant_type: 'password', username: env.adminUsername, password: env.adminPassword });
  const admin = createGatehouseClient({ baseUrl: env.url, accessToken: login.data.access_token });
  const secrets = await admin.GET('/v1/applications/{id}/secrets', { params: { path: { id: process.env.INTEROP_CC_CLIENT_ID } } });
  assert.equal(secrets.response.status, 200);
  assert.ok(secrets.data.items.length >= 1);
  assert.ok(secrets.data.items.every((s) => !('secret' in s)));
});
