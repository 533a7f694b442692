// jose, as a resource server uses it: createRemoteJWKSet + jwtVerify with
// default settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { env, discover, passwordLogin, api, audiences } from './lib/env.mjs';

test('a token for another application has that application\'s audience', async () => {
  const md = (await discover(env.otherClientId)).serverMetadata();
  const JWKS = jose.createRemoteJWKSet(new URL(md.jwks_uri));
  const { access_token } = await passwordLogin(await discover(env.otherClientId));
  const { payload } = await jose.jwtVerify(access_token, JWKS, { issuer: md.issuer, audience: env.otherAudience });
  assert.deepEqual(audiences(payload), [env.otherAudience]);
  assert.equal(payload.iss, env.url);
  await assert.rejects(jose.jwtVerify(access_token, JWKS, { issuer: md.issuer, audience: env.defaultAudience }),
    (err) => err instanceof jose.errors.JWTClaimValidationFailed && err.claim === 'aud');
});

// Staged rotation (DESIGN: "Signing key"): a rotated key is published in
// the JWKS at once but signs only after --key-activation-delay (20 min by
// default), so a resource server's cached key set is never behind. jose's
// remote set refetches on an unknown kid at most every 30 s (its
// cooldownDuration): a token signed at once by the new key would fail
// there.
test('after POST /v1/signing-keys/rotate, new tokens verify with the same JWKS object', async (t) => {
  const config = await discover();
  const md = config.serverMetadata();
  const JWKS = jose.createRemoteJWKSet(new URL(md.jwks_uri));
  const admin = await passwordLogin(config, env.adminUsername, env.adminPassword);
  const before = await jose.jwtVerify(admin.access_token, JWKS, { issuer: md.issuer });
  assert.equal(before.payload.iss, env.url);
  assert.deepEqual(audiences(before.payload), [env.defaultAudience]);

  const rotated = await api('POST', '/v1/signing-keys/rotate', { token: admin.access_token });
  assert.equal(rotated.res.status, 200, rotated.text);
  assert.notEqual(rotated.json.kid, before.protectedHeader.kid);

  // Rotation is staged: the new key is published at once and signs only
  // after --key-activation-delay, so a JWKS cached before the rotation
  // still verifies every token signed until then.
  const again = await passwordLogin(config, env.adminUsername, env.adminPassword);
  await t.test('the new login verifies with the JWKS fetched before the rotation', async () => {
    const after = await jose.jwtVerify(again.access_token, JWKS, { issuer: md.issuer });
    assert.equal(after.payload.sub, before.payload.sub);
  });
  await t.test('it is still signed with the old key', () => {
    assert.equal(jose.decodeProtectedHeader(again.access_token).kid, before.protectedHeader.kid);
  });
  await t.test('the new key is published at once, with its activation time', async () => {
    const jwks = await api('GET', '/.well-known/jwks.json');
    assert.ok(jwks.json.keys.some((k) => k.kid === rotated.json.kid), 'the rotated key is in the JWKS');
    assert.ok(rotated.json.active_from, `the rotate response gives active_from: ${rotated.text}`);
    assert.ok(Date.parse(rotated.json.active_from) > Date.now(), `active_from ${rotated.json.active_from} is ahead`);
  });
});
