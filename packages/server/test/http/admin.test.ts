// test-tier: full (slow: 11 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backendNames } from '../helpers/backends.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { isProblem, login, registerUser } from '../helpers/http.ts';

async function adminKey(env: TestApp) {
  const { secret } = await env.app.sessiond.adminKeys.create('test', env.clock.now());
  return { 'x-admin-key': secret };
}

for (const backend of backendNames) {
  describe(`admin API (${backend})`, () => {
    test('authorised only by a live admin key; end-user tokens and revoked keys get 401', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, app, clock } = env;
      const user = await registerUser(http);
      assert.equal((await http.get('/admin/stats')).status, 401);
      const asUser = await http.get('/admin/stats', { token: user.accessToken });
      assert.equal(asUser.status, 401);
      assert.ok(isProblem(asUser));
      assert.equal((await http.get('/admin/stats', { headers: { 'x-admin-key': 'sdk_admin_0000000000000000.' + 'A'.repeat(43) } })).status, 401);
      const { key, secret } = await app.sessiond.adminKeys.create('ops', clock.now());
      // a guessed secret for a real key id
      assert.equal((await http.get('/admin/stats', { headers: { 'x-admin-key': `sdk_admin_${key.id}.${'B'.repeat(43)}` } })).status, 401);
      const ok = await http.get('/admin/stats', { headers: { 'x-admin-key': secret } });
      assert.deepEqual([ok.status, ok.body], [200, { users: 1, activeSessions: 1 }]);
      await app.sessiond.adminKeys.revoke(key.id, clock.now());
      assert.equal((await http.get('/admin/stats', { headers: { 'x-admin-key': secret } })).status, 401);
      const stored = await app.sessiond.database.db.selectFrom('admin_keys').selectAll().execute();
      assert.ok(!JSON.stringify(stored).includes(secret.split('.')[1]!), 'only a hash of the secret is stored');
    });

    test('find a user, list sessions with ended ones, revoke one and all; tokens die at once', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, clock } = env;
      const headers = await adminKey(env);
      const ada = await registerUser(http, { email: 'Ada@Example.com' });
      const phone = await login(http, ada);
      const tablet = await login(http, ada);
      await http.delete(`/sessions/${tablet.sessionId}`, { token: ada.accessToken });

      const found = await http.get('/admin/users?email=ADA@example.com', { headers });
      assert.equal(found.status, 200);
      assert.equal(found.body.id, ada.userId);
      assert.equal(found.body.activeSessionCount, 2);
      assert.equal((await http.get('/admin/users?email=nobody@example.com', { headers })).status, 404);
      assert.equal((await http.get(`/admin/users/${ada.userId}`, { headers })).body.email, 'ada@example.com');

      const all = await http.get(`/admin/users/${ada.userId}/sessions`, { headers });
      assert.equal(all.body.meta.total, 3);
      const ended = await http.get(`/admin/users/${ada.userId}/sessions?status=ended`, { headers });
      assert.deepEqual(ended.body.data.map((s: any) => [s.id, s.active, s.endReason]), [[tablet.sessionId, false, 'user_revoked']]);
      const active = await http.get(`/admin/users/${ada.userId}/sessions?status=active`, { headers });
      assert.equal(active.body.meta.total, 2);
      assert.equal((await http.get(`/admin/users/${ada.userId}/sessions?status=bogus`, { headers })).status, 400);

      clock.advanceSeconds(1);
      const one = await http.delete(`/admin/sessions/${phone.sessionId}`, { headers });
      assert.deepEqual(one.body, { sessionId: phone.sessionId, revoked: true });
      assert.equal((await http.get('/auth/me', { token: phone.accessToken })).status, 401);
      assert.equal((await http.delete(`/admin/sessions/${phone.sessionId}`, { headers })).status, 404);
      const rest = await http.delete(`/admin/users/${ada.userId}/sessions`, { headers });
      assert.deepEqual(rest.body, { revokedCount: 1 });
      assert.equal((await http.get('/auth/me', { token: ada.accessToken })).status, 401);
    });

    test('the audit log: filter by user, session and type; page by id', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http } = env;
      const headers = await adminKey(env);
      const a = await registerUser(http);
      const b = await registerUser(http);
      const r = await http.post('/auth/refresh', { refreshToken: a.refreshToken });
      await http.delete('/sessions', { token: r.body.accessToken });
      const mine = await http.get(`/admin/events?userId=${a.userId}`, { headers });
      assert.deepEqual(mine.body.data.map((e: any) => [e.type, e.reason]), [
        ['session.created', null],
        ['session.refreshed', null],
        ['session.revoked', 'user_revoked_all'],
      ]);
      assert.equal(mine.body.nextAfter, null);
      const created = await http.get('/admin/events?type=session.created&limit=1', { headers });
      assert.equal(created.body.data.length, 1);
      assert.equal(created.body.data[0].userId, a.userId);
      assert.equal(created.body.data[0].data.ipAddress, '127.0.0.1');
      const next = await http.get(`/admin/events?type=session.created&limit=1&after=${created.body.nextAfter}`, { headers });
      assert.equal(next.body.data[0].userId, b.userId);
      const bySession = await http.get(`/admin/events?sessionId=${b.sessionId}`, { headers });
      assert.deepEqual(bySession.body.data.map((e: any) => e.type), ['session.created']);
      for (const bad of ['type=nope', 'userId=xyz', 'after=-1', 'limit=501']) {
        assert.equal((await http.get(`/admin/events?${bad}`, { headers })).status, 400, bad);
      }
    });
  });
}
