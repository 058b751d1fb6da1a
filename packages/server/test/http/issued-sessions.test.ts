// test-tier: full (slow: 14 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { startApp, type TestApp } from '../helpers/app.ts';
import { backendNames } from '../helpers/backends.ts';
import { isProblem, registerUser } from '../helpers/http.ts';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

async function serviceKey(env: TestApp, scopes: Array<'revocations:read' | 'sessions:issue'>) {
  const { secret } = await env.app.sessiond.serviceKeys.create('backend', scopes, env.clock.now());
  return { 'x-service-key': secret };
}

for (const backend of backendNames) {
  describe(`sessions issued by the application's backend (${backend})`, () => {
    test('a key with sessions:issue creates a password-less user and a session that lives like any other', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, clock } = env;
      const headers = await serviceKey(env, ['sessions:issue']);

      const created = await http.request('PUT', `/admin/users/by-email/${encodeURIComponent('Grace@Example.com')}`, { headers, body: { name: 'Grace', externalId: 'google|123' } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.email, 'grace@example.com');
      assert.deepEqual([created.body.name, created.body.externalId, created.body.activeSessionCount], ['Grace', 'google|123', 0]);
      // Idempotent: the same user again (200), unchanged.
      const again = await http.request('PUT', '/admin/users/by-email/grace@example.com', { headers, body: { name: 'Other' } });
      assert.deepEqual([again.status, again.body.id, again.body.name], [200, created.body.id, 'Grace']);
      // An external id belongs to one user.
      const clash = await http.request('PUT', '/admin/users/by-email/someone@example.com', { headers, body: { externalId: 'google|123' } });
      assert.equal(clash.status, 409);
      assert.ok(isProblem(clash));

      const issued = await http.post(`/admin/users/${created.body.id}/sessions`, { ipAddress: '198.51.100.7', userAgent: CHROME, authMethod: 'oauth:google' }, { headers });
      assert.equal(issued.status, 201, issued.text);
      // Exactly the sign-in answer.
      assert.deepEqual(Object.keys(issued.body).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'sessionId', 'tokenType', 'user']);
      assert.deepEqual(issued.body.user, { id: created.body.id, email: 'grace@example.com', name: 'Grace', createdAt: created.body.createdAt });
      assert.equal(issued.body.tokenType, 'Bearer');
      assert.equal(issued.headers.get('cache-control'), 'no-store');
      assert.deepEqual(decodeJwt(issued.body.accessToken).amr, ['oauth:google']);

      // Used like any session: me, the list (with its method), refresh (the method stays in amr).
      assert.equal((await http.get('/auth/me', { token: issued.body.accessToken })).body.sessionId, issued.body.sessionId);
      const list = await http.get('/sessions', { token: issued.body.accessToken });
      assert.deepEqual(list.body.data.map((s: any) => [s.id, s.authMethod, s.ipAddress, s.device.browser?.split(' ')[0], s.isCurrent]), [
        [issued.body.sessionId, 'oauth:google', '198.51.100.7', 'Chrome', true],
      ]);
      clock.advanceSeconds(60);
      const refreshed = await http.post('/auth/refresh', { refreshToken: issued.body.refreshToken });
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.equal(refreshed.body.sessionId, issued.body.sessionId);
      assert.deepEqual(decodeJwt(refreshed.body.accessToken).amr, ['oauth:google']);

      // Events carry the method.
      const adminKey = { 'x-admin-key': (await env.app.sessiond.adminKeys.create('ops', clock.now())).secret };
      const events = await http.get(`/admin/events?sessionId=${issued.body.sessionId}`, { headers: adminKey });
      assert.deepEqual(events.body.data.map((e: any) => e.type), ['session.created', 'session.refreshed']);
      assert.equal(events.body.data[0].data.authMethod, 'oauth:google');
      const adminView = await http.get(`/admin/users/${created.body.id}/sessions`, { headers: adminKey });
      assert.deepEqual(adminView.body.data.map((s: any) => s.authMethod), ['oauth:google']);

      // Revoked like any other: refused on the next request.
      const revoked = await http.delete(`/sessions/${issued.body.sessionId}`, { token: refreshed.body.accessToken });
      assert.equal(revoked.status, 200);
      assert.equal((await http.get('/auth/me', { token: refreshed.body.accessToken })).status, 401);
      assert.equal((await http.post('/auth/refresh', { refreshToken: refreshed.body.refreshToken })).status, 401);

      // No password: signing in with any password gets exactly the wrong-password answer.
      const noPassword = await http.post('/auth/login', { email: 'grace@example.com', password: '' });
      const wrong = await http.post('/auth/login', { email: 'nobody@example.com', password: 'whatever password' });
      assert.deepEqual([noPassword.status, noPassword.body.type, noPassword.body.detail], [wrong.status, wrong.body.type, wrong.body.detail]);
      assert.equal(noPassword.status, 401);
    });

    test('a deleted account keeps no external id: the same person can be provisioned again, also after tombstones made before the fix', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, clock } = env;
      const headers = await serviceKey(env, ['sessions:issue']);
      const adminKey = { 'x-admin-key': (await env.app.sessiond.adminKeys.create('ops', clock.now())).secret };
      const db = env.app.sessiond.database.db;

      const first = await http.request('PUT', '/admin/users/by-email/hana@example.com', { headers, body: { externalId: 'github|77' } });
      assert.equal(first.status, 201, first.text);
      assert.equal((await http.delete(`/admin/users/${first.body.id}`, { headers: adminKey })).status, 200);
      const tombstone = await db.selectFrom('users').select(['email', 'external_id']).where('id', '=', first.body.id).executeTakeFirstOrThrow();
      assert.deepEqual(tombstone, { email: `deleted:${first.body.id}`, external_id: null }, 'nothing that names the person is kept');
      // The same person signs in through the application again: a new account, with their id.
      const again = await http.request('PUT', '/admin/users/by-email/hana@example.com', { headers, body: { externalId: 'github|77' } });
      assert.equal(again.status, 201, again.text);
      assert.notEqual(again.body.id, first.body.id);
      assert.equal(again.body.externalId, 'github|77');

      // A tombstone from before (external id kept) is cleared by the migration, which touches nothing else.
      assert.equal((await http.delete(`/admin/users/${again.body.id}`, { headers: adminKey })).status, 200);
      await db.updateTable('users').set({ external_id: 'github|77' }).where('id', '=', again.body.id).execute();
      const live = await http.request('PUT', '/admin/users/by-email/ivo@example.com', { headers, body: { externalId: 'github|78' } });
      assert.equal(live.status, 201, live.text);
      const { up } = await import('../../src/database/migrations/2026-11-29T12-20-00_tombstone-external-ids.ts');
      await up(db);
      const ids = await db.selectFrom('users').select(['id', 'external_id']).where('id', 'in', [again.body.id, live.body.id]).execute();
      assert.deepEqual(Object.fromEntries(ids.map((r) => [r.id, r.external_id])), { [again.body.id]: null, [live.body.id]: 'github|78' });
      assert.equal((await http.request('PUT', '/admin/users/by-email/hana@example.com', { headers, body: { externalId: 'github|77' } })).status, 201);
    });

    test('sessions:issue is required: 403 without the scope; 401 with no key, a bad or revoked key, a user token or an admin key', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, app, clock } = env;
      const user = await registerUser(http);
      const body = { ipAddress: null, userAgent: null, authMethod: 'saml' };
      const path = `/admin/users/${user.userId}/sessions`;

      const readOnly = await serviceKey(env, []); // the default scope: revocations:read
      const noScope = await http.post(path, body, { headers: readOnly });
      assert.equal(noScope.status, 403);
      assert.ok(isProblem(noScope));
      assert.equal(noScope.body.type, 'urn:sessiond:problem:insufficient-scope');
      assert.equal((await http.request('PUT', '/admin/users/by-email/a@example.com', { headers: readOnly, body: {} })).status, 403);

      const admin = { 'x-admin-key': (await app.sessiond.adminKeys.create('ops', clock.now())).secret };
      const issuing = await app.sessiond.serviceKeys.create('backend', ['sessions:issue'], clock.now());
      for (const [what, headers] of [
        ['no key', {}],
        ['a user token', { authorization: `Bearer ${user.accessToken}` }],
        ['an admin key', admin],
        ['an admin key in X-Service-Key', { 'x-service-key': admin['x-admin-key'] }],
        ['a guessed secret', { 'x-service-key': `${issuing.secret.split('.')[0]}.${'A'.repeat(43)}` }],
        ['a huge value', { 'x-service-key': 'x'.repeat(5000) }],
      ] as const) {
        const res = await http.post(path, body, { headers });
        assert.equal(res.status, 401, what);
        assert.ok(isProblem(res), what);
        assert.equal(res.body.type, 'urn:sessiond:problem:invalid-service-key', what);
      }
      const ok = await http.post(path, body, { headers: { 'x-service-key': issuing.secret } });
      assert.equal(ok.status, 201, ok.text);
      await app.sessiond.serviceKeys.revoke(issuing.key.id, clock.now());
      assert.equal((await http.post(path, body, { headers: { 'x-service-key': issuing.secret } })).status, 401, 'a revoked key');
    });

    test('bad input: malformed emails, ids, bodies and methods get 400 problems; an unknown user 404', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http } = env;
      const headers = await serviceKey(env, ['sessions:issue']);
      const user = await registerUser(http);
      const cases: Array<[string, string, string, unknown]> = [
        ['malformed email', 'PUT', '/admin/users/by-email/not-an-email', {}],
        ['empty name', 'PUT', '/admin/users/by-email/a@example.com', { name: '' }],
        ['body not an object', 'PUT', '/admin/users/by-email/a@example.com', [1]],
        ['malformed user id', 'POST', '/admin/users/not-a-uuid/sessions', { ipAddress: null, userAgent: null, authMethod: 'saml' }],
        ['missing authMethod', 'POST', `/admin/users/${user.userId}/sessions`, { ipAddress: null, userAgent: null }],
        ['authMethod password', 'POST', `/admin/users/${user.userId}/sessions`, { ipAddress: null, userAgent: null, authMethod: 'password' }],
        ['authMethod with spaces', 'POST', `/admin/users/${user.userId}/sessions`, { ipAddress: null, userAgent: null, authMethod: 'Google OAuth' }],
        ['bad ip', 'POST', `/admin/users/${user.userId}/sessions`, { ipAddress: '999.1.1.1', userAgent: null, authMethod: 'saml' }],
      ];
      for (const [what, method, path, body] of cases) {
        const res = await http.request(method, path, { headers, body });
        assert.equal(res.status, 400, `${what}: ${res.text}`);
        assert.ok(isProblem(res), what);
      }
      const bad = await http.request('PUT', '/admin/users/by-email/a@example.com', { headers: { ...headers, 'content-type': 'application/json' }, raw: '{"name":' });
      assert.equal(bad.status, 400);
      const unknown = await http.post('/admin/users/00000000-0000-4000-8000-000000000000/sessions', { ipAddress: null, userAgent: null, authMethod: 'saml' }, { headers });
      assert.deepEqual([unknown.status, isProblem(unknown)], [404, true]);
    });

    test('session limits apply to issued sessions too', async (t) => {
      const env = await startApp(t, backend, { config: { maxSessionsPerUser: 1, sessionLimitMode: 'refuse' } });
      if (!env) return;
      const { http } = env;
      const headers = await serviceKey(env, ['sessions:issue']);
      const user = await http.request('PUT', '/admin/users/by-email/limit@example.com', { headers, body: {} });
      const body = { ipAddress: '203.0.113.1', userAgent: null, authMethod: 'magic_link' };
      assert.equal((await http.post(`/admin/users/${user.body.id}/sessions`, body, { headers })).status, 201);
      const second = await http.post(`/admin/users/${user.body.id}/sessions`, body, { headers });
      assert.deepEqual([second.status, second.body.type], [409, 'urn:sessiond:problem:session-limit-reached']);
    });
  });
}
