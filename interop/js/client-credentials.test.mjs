// Confidential applications: openid-client's clientCredentialsGrant and
// tokenIntrospection with ClientSecretBasic, and oauth4webapi's
// clientCredentialsGrantRequest with PrivateKeyJwt, against gatehouse's
// client_credentials grant and client authentication at introspection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import { env, discover, passwordLogin } from './lib/env.mjs';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run from contract_test (TestJavaScriptClients)`);
  return v;
}
const cc = {
  id: need('INTEROP_CC_CLIENT_ID'),
  secret: need('INTEROP_CC_CLIENT_SECRET'),
  audience: need('INTEROP_CC_AUDIENCE'),
};

function discoverConfidential() {
  return client.discovery(new URL(env.url), cc.id, cc.secret, client.ClientSecretBasic(cc.secret), {
    execute: [client.allowInsecureRequests],
  });
}

test('openid-client clientCredentialsGrant (ClientSecretBasic)', async () => {
  const config = await discoverConfidential();
  const md = config.serverMetadata();
  assert.ok(md.grant_types_supported.includes('client_credentials'));
  assert.ok(md.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read' });
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.equal(tokens.scope, 'orders:read');
  assert.equal(tokens.refresh_token, undefined);
  const claims = jose.decodeJwt(tokens.access_token);
  assert.equal(claims.sub, cc.id);
  assert.equal(claims.sub_type, 'client');
  assert.deepEqual([].concat(claims.aud), [cc.audience]);
});

test('openid-client clientCredentialsGrant refuses a wrong secret (invalid_client)', async () => {
  const config = await client.discovery(new URL(env.url), cc.id, 'wrong', client.ClientSecretBasic('wrong'), {
    execute: [client.allowInsecureRequests],
  });
  // With Basic the 401 carries a Basic challenge (RFC 6749 §5.2), which
  // openid-client raises as WWWAuthenticateChallengeError; the RFC 6749
  // body is on its response.
  const err = await client.clientCredentialsGrant(config).then(() => null, (e) => e);
  assert.ok(err instanceof client.WWWAuthenticateChallengeError, `got ${err?.name}: ${err?.message}`);
  assert.equal(err.status, 401);
  assert.equal(err.response.headers.get('www-authenticate'), 'Basic realm="gatehouse"');
  assert.equal((await err.response.json()).error, 'invalid_client');
});

test('openid-client tokenIntrospection (ClientSecretBasic)', async () => {
  const user = await passwordLogin(await discover());
  const config = await discoverConfidential();
  const active = await client.tokenIntrospection(config, user.access_token);
  assert.equal(active.active, true);
  assert.equal(active.username, env.username);
  const inactive = await client.tokenIntrospection(config, 'not-a-token');
  assert.equal(inactive.active, false);
});

test('oauth4webapi clientCredentialsGrantRequest (PrivateKeyJwt, ES256)', async () => {
  // The administrator puts the application's public key.
  const admin = await passwordLogin(await discover(), env.adminUsername, env.adminPassword);
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'js-es256', alg: 'ES256', use: 'sig' };
  const put = await fetch(`${env.url}/v1/applications/${cc.id}/jwks`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ keys: [jwk] }),
  });
  assert.equal(put.status, 200, await put.clone().text());

  const issuer = new URL(env.url);
  const as = await oauth.processDiscoveryResponse(issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
  assert.ok(as.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  assert.ok(as.token_endpoint_auth_signing_alg_values_supported.includes('ES256'));
  const c = { client_id: cc.id };
  const auth = oauth.PrivateKeyJwt({ key: privateKey, kid: 'js-es256' });
  const res = await oauth.clientCredentialsGrantRequest(as, c, auth, new URLSearchParams({ scope: 'orders:read' }),
    { [oauth.allowInsecureRequests]: true });
  const tokens = await oauth.processClientCredentialsResponse(as, c, res);
  assert.equal(tokens.scope, 'orders:read');
  assert.equal(jose.decodeJwt(tokens.access_token).sub, cc.id);
});
