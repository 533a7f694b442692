// Defect 4: with the default issuer, discovery works in the two most used
// JavaScript OAuth/OIDC clients (they parse the issuer as a URL and
// compare it with the URL they discovered from).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import { env, discover } from './lib/env.mjs';

test('openid-client discovery() accepts the default issuer', async () => {
  const config = await discover();
  const md = config.serverMetadata();
  assert.equal(md.issuer, env.url, 'the issuer is the URL discovered from');
  assert.equal(new URL(md.issuer).href, new URL(env.url).href);
  assert.equal(md.token_endpoint, `${env.url}/oauth/token`);
  assert.equal(md.jwks_uri, `${env.url}/.well-known/jwks.json`);
  assert.ok(md.grant_types_supported.includes('refresh_token'));
  assert.ok(config instanceof client.Configuration);
  assert.equal(config.clientMetadata().client_id, env.defaultClientId);
});

for (const algorithm of ['oidc', 'oauth2']) {
  test(`oauth4webapi discoveryRequest/processDiscoveryResponse (${algorithm})`, async () => {
    const issuer = new URL(env.url);
    const res = await oauth.discoveryRequest(issuer, { algorithm, [oauth.allowInsecureRequests]: true });
    assert.equal(res.status, 200);
    const as = await oauth.processDiscoveryResponse(issuer, res);
    assert.equal(as.issuer, env.url);
    assert.equal(as.token_endpoint, `${env.url}/oauth/token`);
  });
}
