// A password-grant login, then openid-client's refreshTokenGrant rotates
// the refresh token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { discover, passwordLogin } from './lib/env.mjs';

test('password grant, then refreshTokenGrant rotates the refresh token', async () => {
  const config = await discover();
  const login = await passwordLogin(config);
  assert.equal(login.token_type, 'bearer');
  assert.equal(typeof login.access_token, 'string');
  assert.equal(typeof login.refresh_token, 'string');
  assert.ok(login.expires_in > 0);

  const first = await client.refreshTokenGrant(config, login.refresh_token);
  assert.equal(first.token_type, 'bearer');
  assert.equal(typeof first.refresh_token, 'string');
  assert.notEqual(first.refresh_token, login.refresh_token, 'a refresh rotates the refresh token');
  assert.notEqual(first.access_token, login.access_token);
  assert.equal(first.scope, login.scope, 'a refresh keeps the scope');

  // The successor works in its turn.
  const second = await client.refreshTokenGrant(config, first.refresh_token);
  assert.notEqual(second.refresh_token, first.refresh_token);
});
