// test-tier: full (slow: 16 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { generateKeyMaterial } from '../../src/tokens/key-store.ts';
import { startApp, testConfig, type TestApp } from '../helpers/app.ts';
import { backendNames, openBackend, type BackendName } from '../helpers/backends.ts';
import { assertProblem, assertUnauthorized } from '../helpers/hostile.ts';
import { HttpClient, login, registerUser, type SignedIn } from '../helpers/http.ts';
import { waitUntil } from '../helpers/processes.ts';

/**
 * Changing the password and deleting an account (issue 12, item 12): both end sessions through the
 * one revocation path, so a deleted user's tokens are refused on the very next request, here and
 * on every other instance within the revocation bound.
 */

async function adminHeaders(env: TestApp) {
  const { secret } = await env.app.sessiond.adminKeys.create('test', env.clock.now());
  return { 'x-admin-key': secret };
}

/** What the audit log (and so the webhook outbox) holds about a user's revocations. */
async function revocationReasons(env: TestApp, headers: Record<string, string>, userId: string): Promise<Array<[string, string]>> {
  const res = await env.http.get(`/admin/events?userId=${userId}&type=session.revoked`, { headers });
  assert.equal(res.status, 200, res.text);
  return (res.body.data as Array<{ sessionId: string; reason: string }>).map((e) => [e.sessionId, e.reason]);
}

/** Every way a session's credentials are used: each must be refused. */
async function assertAllRefused(http: HttpClient, s: SignedIn, label: string) {
  // Twice: the first may be answered by the full path, the second by the fast path's memory.
  for (let i = 0; i < 2; i++) {
    assertUnauthorized(await http.get('/auth/me', { token: s.accessToken }), `${label}: /auth/me`);
    assertUnauthorized(await http.get(`/sessions/validate/${s.sessionId}`, { token: s.accessToken }), `${label}: validate`);
    assertUnauthorized(await http.get('/sessions', { token: s.accessToken }), `${label}: list`);
  }
  assertProblem(await http.post('/auth/refresh', { refreshToken: s.refreshToken }), 401, `${label}: refresh`);
}

/** Warms every cache that could wrongly say yes later (the verified-token cache, the session cache, the user cache). */
async function warm(http: HttpClient, sessions: SignedIn[]) {
  for (const s of sessions) {
    for (let i = 0; i < 3; i++) assert.equal((await http.get('/auth/me', { token: s.accessToken })).status, 200);
    assert.equal((await http.get(`/sessions/validate/${s.sessionId}`, { token: s.accessToken })).body.valid, true);
  }
}

/** An app, an admin key, and one account signed in on two devices whose every cache is warm. */
async function twoDevices(t: TestContext, backend: BackendName) {
  const env = await startApp(t, backend);
  if (!env) return undefined;
  const { http } = env;
  const admin = await adminHeaders(env);
  const laptop = await registerUser(http);
  const phone = await login(http, laptop);
  await warm(http, [laptop, phone]);
  return { env, http, admin, laptop, phone };
}

for (const backend of backendNames) {
  describe(`account changes end sessions (${backend})`, () => {
    test('POST /auth/password: current password required, sign-up policy, every other session ends (password_changed)', async (t) => {
      const setup = await twoDevices(t, backend);
      if (!setup) return;
      const { env, http, admin, laptop, phone } = setup;
      const tablet = await login(http, laptop);
      const stranger = await registerUser(http);
      await warm(http, [tablet]);

      assertProblem(await http.post('/auth/password', { currentPassword: laptop.password, newPassword: 'a brand new passphrase' }), 401, 'no token');
      const wrong = await http.post('/auth/password', { currentPassword: 'not the password', newPassword: 'a brand new passphrase' }, { token: laptop.accessToken });
      assert.equal(assertProblem(wrong, 403, 'wrong current password').type, 'urn:sessiond:problem:wrong-password');
      assertProblem(await http.post('/auth/password', { newPassword: 'a brand new passphrase' }, { token: laptop.accessToken }), 400, 'current password missing');
      for (const weak of ['short', 'password123', ' '.repeat(12), laptop.email]) {
        const res = await http.post('/auth/password', { currentPassword: laptop.password, newPassword: weak }, { token: laptop.accessToken });
        assert.equal(assertProblem(res, 400, `weak: ${weak}`).type, 'urn:sessiond:problem:weak-password');
      }
      // None of the refusals changed anything.
      assert.equal((await http.get('/sessions/count', { token: phone.accessToken })).body.count, 3);

      const changed = await http.post('/auth/password', { currentPassword: laptop.password, newPassword: 'a brand new passphrase' }, { token: laptop.accessToken });
      assert.equal(changed.status, 200, changed.text);
      assert.deepEqual(changed.body, { revokedCount: 2 });
      // The very next request with the other sessions' tokens: refused. This one lives on.
      await assertAllRefused(http, phone, 'phone');
      await assertAllRefused(http, tablet, 'tablet');
      assert.equal((await http.get('/auth/me', { token: laptop.accessToken })).status, 200);
      assert.equal((await http.get('/auth/me', { token: stranger.accessToken })).status, 200, 'other accounts untouched');
      // The old password no longer signs in; the new one does.
      assertProblem(await http.post('/auth/login', { email: laptop.email, password: laptop.password }), 401, 'old password');
      assert.equal((await http.post('/auth/login', { email: laptop.email, password: 'a brand new passphrase' })).status, 200);
      assert.deepEqual(
        (await revocationReasons(env, admin, laptop.userId)).sort(),
        [[phone.sessionId, 'password_changed'], [tablet.sessionId, 'password_changed']].sort(),
        'one session.revoked event (reason password_changed) per ended session: the audit log and webhook outbox',
      );
    });

    test('DELETE /auth/me: password required; every session ends at once (account_deleted), then the account is gone', async (t) => {
      const setup = await twoDevices(t, backend);
      if (!setup) return;
      const { env, http, admin, laptop, phone } = setup;

      assertProblem(await http.request('DELETE', '/auth/me', { token: laptop.accessToken }), [400, 415], 'no body');
      assertProblem(await http.request('DELETE', '/auth/me', { token: laptop.accessToken, body: {} }), 400, 'no password');
      assertProblem(await http.request('DELETE', '/auth/me', { token: laptop.accessToken, body: { password: 'not the password' } }), 403, 'wrong password');
      assertProblem(await http.request('DELETE', '/auth/me', { body: { password: laptop.password } }), 401, 'no token');
      assert.equal((await http.get('/auth/me', { token: phone.accessToken })).status, 200, 'refusals deleted nothing');

      const deleted = await http.request('DELETE', '/auth/me', { token: phone.accessToken, body: { password: laptop.password } });
      assert.equal(deleted.status, 204, deleted.text);
      await assertAllRefused(http, laptop, 'laptop');
      await assertAllRefused(http, phone, 'phone');
      assertProblem(await http.post('/auth/login', { email: laptop.email, password: laptop.password }), 401, 'no sign-in');
      assertProblem(await http.get(`/admin/users/${laptop.userId}`, { headers: admin }), 404, 'admin: no such user');
      assertProblem(await http.get(`/admin/users?email=${encodeURIComponent(laptop.email)}`, { headers: admin }), 404, 'admin: no such email');
      assert.equal((await http.get('/admin/stats', { headers: admin })).body.users, 0, 'not counted');
      // History stays for its retention: the sessions (ended, with why) and the events.
      const history = await http.get(`/admin/users/${laptop.userId}/sessions?status=all`, { headers: admin });
      assert.deepEqual(history.body.data.map((s: any) => [s.active, s.endReason]), [[false, 'account_deleted'], [false, 'account_deleted']]);
      assert.deepEqual(
        (await revocationReasons(env, admin, laptop.userId)).sort(),
        [[laptop.sessionId, 'account_deleted'], [phone.sessionId, 'account_deleted']].sort(),
      );
      // The address is free again: a new, different account.
      const again = await registerUser(http, { email: laptop.email });
      assert.notEqual(again.userId, laptop.userId);
      await assertAllRefused(http, laptop, 'old laptop after re-registration');
    });

    test('DELETE /admin/users/{id}: admin key only; every session ends; a second delete is 404', async (t) => {
      const setup = await twoDevices(t, backend);
      if (!setup) return;
      const { env, http, admin, laptop: user, phone } = setup;
      const other = await registerUser(http);

      assertProblem(await http.delete(`/admin/users/${user.userId}`), 401, 'no admin key');
      assertProblem(await http.delete(`/admin/users/${user.userId}`, { token: user.accessToken }), 401, 'a user token is not an admin key');
      assertProblem(await http.delete('/admin/users/not-a-uuid', { headers: admin }), 400, 'malformed id');
      assertProblem(await http.delete('/admin/users/00000000-0000-4000-8000-000000000000', { headers: admin }), 404, 'unknown id');

      const res = await http.delete(`/admin/users/${user.userId}`, { headers: admin });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { revokedCount: 2 });
      await assertAllRefused(http, user, 'user');
      await assertAllRefused(http, phone, 'phone');
      assertProblem(await http.delete(`/admin/users/${user.userId}`, { headers: admin }), 404, 'already deleted');
      assert.equal((await http.get('/auth/me', { token: other.accessToken })).status, 200, 'other accounts untouched');
      assert.deepEqual((await revocationReasons(env, admin, user.userId)).map(([, reason]) => reason), ['account_deleted', 'account_deleted']);
    });

    test('two instances on one database: deleted or password changed on A, refused on B within the revocation bound', async (t) => {
      const pollMs = 200;
      const { a, b } = await twoInstances(t, backend, pollMs);
      if (!a || !b) return;
      const boundMs = 2 * pollMs + 500; // the documented staleness bound (README, "Many instances")
      // The measurement includes the latency of the request that observed the refusal.
      const REQUEST_SLACK_MS = 250;
      const user = await registerUser(a);
      const onB = await login(b, user);
      const onA = await login(a, user);
      for (const http of [a, b]) await warm(http, [user, onA, onB]);

      // Password changed on A from `user`'s session: onA and onB end, everywhere.
      const changed = await a.post('/auth/password', { currentPassword: user.password, newPassword: 'another long passphrase' }, { token: user.accessToken });
      assert.equal(changed.status, 200, changed.text);
      for (const s of [onA, onB]) {
        const elapsed = await waitUntil(async () => (await b.get('/auth/me', { token: s.accessToken })).status === 401, boundMs + 2000);
        assert.ok(elapsed >= 0 && elapsed <= boundMs + REQUEST_SLACK_MS, `B refuses the sessions ended on A within the bound (${elapsed} ms)`);
        t.diagnostic(`password change on A -> refused on B after ${elapsed.toFixed(0)} ms (bound ${boundMs} ms)`);
      }
      assert.equal((await b.get('/auth/me', { token: user.accessToken })).status, 200, 'the session that changed it lives on B too');

      // Deleted on B with its own session: refused on A.
      const fresh = await login(b, { email: user.email, password: 'another long passphrase' });
      await warm(a, [fresh]);
      const deleted = await b.request('DELETE', '/auth/me', { token: fresh.accessToken, body: { password: 'another long passphrase' } });
      assert.equal(deleted.status, 204, deleted.text);
      for (const s of [user, fresh]) {
        const elapsed = await waitUntil(async () => (await a.get('/auth/me', { token: s.accessToken })).status === 401, boundMs + 2000);
        assert.ok(elapsed >= 0 && elapsed <= boundMs + REQUEST_SLACK_MS, `A refuses every session of the deleted account within the bound (${elapsed} ms)`);
        t.diagnostic(`deletion on B -> refused on A after ${elapsed.toFixed(0)} ms (bound ${boundMs} ms)`);
        // and stays refused, on both
        assert.equal((await a.get('/auth/me', { token: s.accessToken })).status, 401);
        assert.equal((await b.get('/auth/me', { token: s.accessToken })).status, 401);
      }
    });
  });
}

/**
 * Two instances of the app (each with its own caches, revocation feed and fast path) on one
 * database and one key file: what two processes or machines are. No push channel joins them
 * (no DATABASE_URL for LISTEN/NOTIFY, no Redis), so only the revocation feed carries revocations.
 */
async function twoInstances(t: TestContext, backend: BackendName, pollMs: number): Promise<{ a?: HttpClient; b?: HttpClient }> {
  const opened = await openBackend(t, backend, { deferCleanup: true });
  if (!opened) return {};
  const keys = generateKeyMaterial(Date.now());
  const apps: FastifyInstance[] = [];
  t.after(async () => {
    for (const app of apps) await app.close();
    await opened.cleanup();
  });
  const clients: HttpClient[] = [];
  for (let i = 0; i < 2; i++) {
    const app = await buildApp(testConfig({ revocationPollIntervalMs: pollMs }), { database: opened.handle, keys });
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    clients.push(new HttpClient(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`));
  }
  return { a: clients[0], b: clients[1] };
}
