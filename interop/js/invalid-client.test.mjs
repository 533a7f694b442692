// Defect 5: an unknown client_id is invalid_client with a body that says
// so. Without HTTP Basic the token endpoint sends no challenge, so
// openid-client raises ResponseBodyError with the RFC 6749 body. With
// Basic (ClientSecretBasic) RFC 6749 §5.2 requires a challenge matching
// the scheme used: it is Basic, never Bearer. oauth4webapi raises
// WWWAuthenticateChallengeError on any challenge, so there the body is
// read from the error's response.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import { env, discover, passwordLogin, rejection } from './lib/env.mjs';

async function configFor(clientId, secret, auth) {
  const md = (await discover()).serverMetadata();
  const config = new client.Configuration(md, clientId, secret, auth);
  client.allowInsecureRequests(config);
  return config;
}

function isUnknownClientBody(err) {
  assert.ok(err instanceof client.ResponseBodyError, `want a ResponseBodyError, got ${err.name}: ${err.message}`);
  assert.equal(err.status, 401);
  assert.equal(err.error, 'invalid_client');
  assert.match(err.error_description, /unknown client_id/);
  assert.equal(err.response.headers.get('www-authenticate'), null, 'no challenge without HTTP Basic');
  return true;
}

test('unknown client_id, no client authentication: ResponseBodyError invalid_client (password grant)', async () => {
  const config = await configFor(randomUUID(), undefined, client.None());
  await assert.rejects(passwordLogin(config), isUnknownClientBody);
});

test('unknown client_id, client_secret_post: ResponseBodyError invalid_client (password grant)', async () => {
  const config = await configFor(randomUUID(), 'any-secret', client.ClientSecretPost());
  await assert.rejects(passwordLogin(config), isUnknownClientBody);
});

test('unknown client_id: ResponseBodyError invalid_client (refresh grant)', async () => {
  const login = await passwordLogin(await discover());
  const config = await configFor(randomUUID(), undefined, client.None());
  await assert.rejects(client.refreshTokenGrant(config, login.refresh_token), isUnknownClientBody);
});

test('unknown client_id over HTTP Basic: a Basic challenge, never Bearer, and the invalid_client body', async () => {
  const config = await configFor(randomUUID(), 'any-secret', client.ClientSecretBasic());
  const err = await rejection(passwordLogin(config));
  assert.ok(err instanceof client.WWWAuthenticateChallengeError, `want a WWWAuthenticateChallengeError, got ${err.name}: ${err.message}`);
  assert.deepEqual(err.cause.map((c) => c.scheme), ['basic'], 'the challenge matches the scheme the client used');
  assert.equal(err.cause[0].parameters.realm, 'gatehouse');
  assert.equal(err.status, 401);
  const body = await err.response.json();
  assert.equal(body.error, 'invalid_client');
  assert.match(body.error_description, /unknown client_id/);
});

test('a known client_id still logs in', async () => {
  const config = await configFor(env.otherClientId, undefined, client.None());
  const login = await passwordLogin(config);
  assert.equal(typeof login.access_token, 'string');
});
