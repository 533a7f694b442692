// openapi-typescript on the contract the server serves: the 200 of
// GET /openapi.yaml is a YAML document, so its generated type must be
// string (a `type: object` schema makes it Record<string, never>).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import openapiTS, { astToString } from 'openapi-typescript';
import { env, api } from './lib/env.mjs';

// operation returns the generated text of one operation in `operations`.
function operation(ts, id) {
  const start = ts.indexOf(`\n    ${id}: {\n`);
  assert.ok(start >= 0, `operation ${id} is in the generated types`);
  const end = ts.indexOf('\n    };\n', start);
  return ts.slice(start, end);
}

test('the generated type of GET /openapi.yaml 200 is string', async () => {
  const spec = await api('GET', '/openapi.yaml');
  assert.equal(spec.res.status, 200);
  const ts = astToString(await openapiTS(spec.text));
  assert.match(ts, /"\/oauth\/token": \{/, 'the paths are generated');
  const op = operation(ts, 'getOpenAPISpec');
  const content = op.match(/"application\/yaml": ([^;]+);/);
  assert.ok(content, `a content type for GET /openapi.yaml in:\n${op}`);
  assert.equal(content[1], 'string', `the 200's application/yaml type (generated:\n${op}\n)`);
});
