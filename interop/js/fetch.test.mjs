// One /v1 call with plain fetch, checked by status and fields, and the
// same through openapi-fetch's runtime (without its TypeScript types,
// which need a compile step).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import createClient from 'openapi-fetch';
import { env, discover, passwordLogin, api } from './lib/env.mjs';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test('GET /v1/me with plain fetch', async () => {
  const { access_token } = await passwordLogin(await discover());
  const me = await api('GET', '/v1/me', { token: access_token });
  assert.equal(me.res.status, 200, me.text);
  assert.equal(me.json.username, env.username);
  assert.equal(me.json.role, 'user');
  assert.match(me.json.id, uuid);
  assert.equal(me.json.disabled, false);
  assert.ok(!Number.isNaN(Date.parse(me.json.created_at)));

  const anonymous = await api('GET', '/v1/me');
  assert.equal(anonymous.res.status, 401);
  assert.equal(anonymous.res.headers.get('content-type'), 'application/problem+json');
  assert.equal(anonymous.json.status, 401);
  assert.match(anonymous.res.headers.get('www-authenticate'), /^Bearer realm="gatehouse"/);

  const api2 = createClient({ baseUrl: env.url });
  const { data, error, response } = await api2.GET('/v1/me', { headers: { authorization: `Bearer ${access_token}` } });
  assert.equal(response.status, 200);
  assert.equal(error, undefined);
  assert.equal(data.id, me.json.id);
});
