// A webhook receiver as an operator's system would write one: it verifies
// every delivery gatehouse sends with the standardwebhooks library (the
// Standard Webhooks reference implementation), across a secret rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Webhook } from 'standardwebhooks';
import { api, discover, env, passwordLogin, rejection } from './lib/env.mjs';

// receiver listens on loopback (serve runs with --webhook-allow-private)
// and hands over each request as it arrives.
async function receiver() {
  const waiting = [];
  const arrived = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.writeHead(204).end();
      const m = { headers: req.headers, body };
      const w = waiting.shift();
      if (w) w(m);
      else arrived.push(m);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    next: () => (arrived.length ? Promise.resolve(arrived.shift()) : new Promise((resolve) => waiting.push(resolve))),
    close: () => server.close(),
  };
}

test('standardwebhooks verifies every delivery, across a secret rotation', async () => {
  const admin = (await passwordLogin(await discover(), env.adminUsername, env.adminPassword)).access_token;
  const rcv = await receiver();
  try {
    const created = await api('POST', '/v1/webhooks', { token: admin, body: { url: rcv.url, events: ['user.create', 'user.delete'] } });
    assert.equal(created.res.status, 201, created.text);
    const { id, secret } = created.json;
    assert.match(secret, /^whsec_/);

    const user = await api('POST', '/v1/users', { token: admin, body: { username: 'webhook-js', password: 'webhook-js-password' } });
    assert.equal(user.res.status, 201, user.text);
    const first = await rcv.next();
    const payload = new Webhook(secret).verify(first.body, first.headers);
    assert.equal(payload.type, 'user.create');
    assert.equal(payload.data.subject_id, user.json.id);
    assert.equal(payload.data.id, first.headers['webhook-id']);
    // A body changed on the way is refused.
    const tampered = await rejection((async () => new Webhook(secret).verify(first.body.replace('user.create', 'user.delete'), first.headers))());
    assert.equal(tampered.name, 'WebhookVerificationError');

    const rotated = await api('POST', `/v1/webhooks/${id}/secret`, { token: admin });
    assert.equal(rotated.res.status, 200, rotated.text);
    const del = await api('DELETE', `/v1/users/${user.json.id}`, { token: admin });
    assert.equal(del.res.status, 204, del.text);
    const second = await rcv.next();
    assert.equal(second.headers['webhook-signature'].split(' ').length, 2, 'two signatures during the overlap');
    for (const s of [secret, rotated.json.secret]) {
      assert.equal(new Webhook(s).verify(second.body, second.headers).type, 'user.delete');
    }
  } finally {
    rcv.close();
  }
});
