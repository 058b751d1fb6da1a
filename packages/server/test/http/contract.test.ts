// The HTTP contract as integrators meet it (issue 15): wrong methods get 405 with Allow; UUIDs are
// case-insensitive on input and answered in the canonical form, on the fast path and the full path
// alike; the served OpenAPI document is the committed openapi.json (servers aside), and that file
// is what the code generates now.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { buildOpenApiDocument, documentText, openApiFile } from '../../../../scripts/generate-openapi.ts';
import { startApp } from '../helpers/app.ts';
import { registerUser, type HttpResult } from '../helpers/http.ts';

describe('HTTP contract', () => {
  test('a path that exists under other methods answers 405 with Allow, as problem details; an unknown path 404', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const cases: Array<[method: string, path: string, allow: string]> = [
      ['PUT', '/sessions', 'DELETE, GET, HEAD'],
      ['PATCH', '/sessions/00000000-0000-4000-8000-000000000000', 'DELETE'],
      // DELETE matches /sessions/{sessionId} (it answers 400 there): Allow tells the truth.
      ['POST', '/sessions/count', 'DELETE, GET, HEAD'],
      ['GET', '/auth/login', 'POST'],
      ['DELETE', '/health', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const res: HttpResult = await env.http.request(method, path);
      assert.equal(res.status, 405, `${method} ${path}: ${res.text}`);
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.type, 'urn:sessiond:problem:method-not-allowed');
      assert.equal(res.body.status, 405);
      assert.ok(res.headers.get('x-request-id'));
    }
    const unknown = await env.http.request('GET', '/no/such/path');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('allow'), null);
  });

  test('upper-case session ids get the answer of the lower-case id, on the fast path and on the full path', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    assert.ok(env.app.sessiond.fastPath, 'the fast path is on in tests');
    const user = await registerUser(env.http);
    const other = await registerUser(env.http);
    const token = user.accessToken;
    const upper = user.sessionId.toUpperCase();
    const mixed = user.sessionId.replace(/[a-f]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c));
    assert.notEqual(upper, user.sessionId, 'the id has letters');

    // First request verifies the token on the full path; later ones may be answered by the fast path.
    const served = () => env.app.sessiond.fastPath!.served;
    const lower = await env.http.get(`/sessions/validate/${user.sessionId}`, { token });
    for (const id of [upper, mixed, user.sessionId]) {
      const before = served();
      const res: HttpResult = await env.http.get(`/sessions/validate/${id}`, { token });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, lower.text, `validate ${id}`);
      assert.equal(res.body.sessionId, user.sessionId);
      assert.equal(served(), before + 1, 'answered by the fast path');
    }
    // The same on the full path (FAST_PATH=off is the same app without the shortcut).
    const full = await startApp(t, 'sqlite', { config: { fastPath: false } });
    assert.ok(full);
    const fullUser = await registerUser(full.http);
    const fullLower = await full.http.get(`/sessions/validate/${fullUser.sessionId}`, { token: fullUser.accessToken });
    const fullUpper = await full.http.get(`/sessions/validate/${fullUser.sessionId.toUpperCase()}`, { token: fullUser.accessToken });
    assert.equal(fullUpper.status, 200);
    assert.equal(fullUpper.text, fullLower.text);

    // Someone else's session in upper case: the same answer as in lower case (nothing to probe).
    const foreignLower = await env.http.get(`/sessions/validate/${other.sessionId}`, { token });
    const foreignUpper = await env.http.get(`/sessions/validate/${other.sessionId.toUpperCase()}`, { token });
    assert.equal(foreignUpper.text, foreignLower.text);
    assert.equal(foreignUpper.body.valid, false);
    const revokeForeignLower = await env.http.delete(`/sessions/${other.sessionId}`, { token });
    const revokeForeignUpper = await env.http.delete(`/sessions/${other.sessionId.toUpperCase()}`, { token });
    assert.equal(revokeForeignUpper.status, 404);
    assert.deepEqual(revokeForeignUpper.body, revokeForeignLower.body);

    // A query parameter too: currentSessionId marks the same session whatever its case.
    const list = await env.http.get(`/sessions?currentSessionId=${upper}`, { token });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.data.find((s: { isCurrent: boolean }) => s.isCurrent)?.id, user.sessionId);

    // Revoking by the upper-case id revokes the session and answers with the canonical id.
    const second = await registerUser(env.http);
    const revoked = await env.http.delete(`/sessions/${second.sessionId.toUpperCase()}`, { token: second.accessToken });
    assert.equal(revoked.status, 200, revoked.text);
    assert.deepEqual(revoked.body, { sessionId: second.sessionId, revoked: true });

    // Not a UUID in any case is still a 400.
    const bad = await env.http.get(`/sessions/validate/${upper.replace(/-/g, '')}`, { token });
    assert.equal(bad.status, 400);
  });

  test('the served document is the committed openapi.json (servers aside), which is what the code generates (else: npm run generate:openapi)', async (t) => {
    const committed = fs.readFileSync(openApiFile, 'utf8');
    assert.equal(documentText(await buildOpenApiDocument()), committed, 'openapi.json is stale: run npm run generate:openapi, then npm run generate:sdk');

    const env = await startApp(t, 'sqlite', { config: { publicUrl: 'https://sessions.example.org' } });
    assert.ok(env);
    const served = await env.http.get('/openapi.json');
    assert.deepEqual(served.body.servers.map((s: { url: string }) => s.url), ['https://sessions.example.org'], 'servers from config.publicUrl');
    assert.deepEqual({ ...served.body, servers: [] }, { ...JSON.parse(committed), servers: [] });
  });
});
