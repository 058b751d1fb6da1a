// test-tier: full (slow: 20 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backendNames } from '../helpers/backends.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { login, registerUser } from '../helpers/http.ts';

const row = (env: TestApp, id: string) => env.app.sessiond.database.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

for (const backend of backendNames) {
  describe(`refresh-token rotation (${backend})`, () => {
    test('reusing a rotated-away token after the grace window revokes the whole session', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, clock } = env;
      const a = await registerUser(http);
      const r1 = await http.post('/auth/refresh', { refreshToken: a.refreshToken });
      assert.equal(r1.status, 200);
      clock.advanceSeconds(11); // grace is 10 s
      const reuse = await http.post('/auth/refresh', { refreshToken: a.refreshToken });
      assert.equal(reuse.status, 401);
      // the thief and the victim both lose the session
      assert.equal((await http.post('/auth/refresh', { refreshToken: r1.body.refreshToken })).status, 401);
      assert.equal((await http.get('/auth/me', { token: r1.body.accessToken })).status, 401);
      const stored = await row(env, a.sessionId);
      assert.equal(stored.revoke_reason, 'refresh_token_reused');
    });

    test('a token reused several generations later is still detected', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, clock } = env;
      const a = await registerUser(http);
      let token = a.refreshToken;
      for (let i = 0; i < 3; i++) {
        clock.advanceSeconds(30);
        const r = await http.post('/auth/refresh', { refreshToken: token });
        assert.equal(r.status, 200);
        token = r.body.refreshToken;
      }
      assert.equal((await http.post('/auth/refresh', { refreshToken: a.refreshToken })).status, 401);
      assert.equal((await row(env, a.sessionId)).revoke_reason, 'refresh_token_reused');
    });

    test('a replay inside the grace window gets the same successor, and no sign-out', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, clock } = env;
      const a = await registerUser(http);
      const first = await http.post('/auth/refresh', { refreshToken: a.refreshToken });
      clock.advanceSeconds(9);
      const replay = await http.post('/auth/refresh', { refreshToken: a.refreshToken });
      assert.equal(replay.status, 200);
      assert.equal(replay.body.refreshToken, first.body.refreshToken);
      assert.equal((await http.get('/auth/me', { token: replay.body.accessToken })).status, 200);
      const next = await http.post('/auth/refresh', { refreshToken: first.body.refreshToken });
      assert.equal(next.status, 200, 'the shared successor keeps working');
    });

    test('20 concurrent refreshes with one token: one new token family, no 5xx', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, clock } = env;
      const a = await registerUser(http);
      const results = await Promise.all(Array.from({ length: 20 }, () => http.post('/auth/refresh', { refreshToken: a.refreshToken })));
      assert.ok(results.every((r) => r.status < 500), `statuses: ${results.map((r) => r.status).join(',')}`);
      const successors = new Set(results.filter((r) => r.status === 200).map((r) => r.body.refreshToken));
      assert.equal(successors.size, 1, 'every winner holds the same successor');
      assert.equal((await row(env, a.sessionId)).refresh_generation, 1, 'rotated exactly once');
      const [successor] = [...successors];
      clock.advanceSeconds(11);
      const next = await http.post('/auth/refresh', { refreshToken: successor });
      assert.equal(next.status, 200);
    });

    test('a forged token for a real session is refused without ending the session', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http } = env;
      const a = await registerUser(http);
      const forged = `${a.sessionId}.0.${'A'.repeat(43)}`;
      assert.equal((await http.post('/auth/refresh', { refreshToken: forged })).status, 401);
      assert.equal((await http.get('/auth/me', { token: a.accessToken })).status, 200, 'knowing a session id is not enough to end it');
    });
  });

  describe(`lifetimes on an injected clock (${backend})`, () => {
    const config = { sessionIdleTimeoutSeconds: 3600, sessionAbsoluteLifetimeSeconds: 4 * 3600, accessTokenTtlSeconds: 6 * 3600 };

    test('idle timeout: unused for the idle period, the session is gone everywhere', async (t) => {
      const env = await startApp(t, backend, { config });
      if (!env) return;
      const { http, clock } = env;
      const a = await registerUser(http);
      const b = await login(http, a);
      clock.advanceSeconds(3599);
      // Activity on b just in time: a refresh (an access token never outlives its session's expiry
      // as known when it was issued, so b's first token ends at the idle limit; the new one is good).
      const refreshed = await http.post('/auth/refresh', { refreshToken: b.refreshToken });
      assert.equal(refreshed.status, 200, 'activity on b just in time');
      b.accessToken = refreshed.body.accessToken;
      clock.advanceSeconds(1);
      // a: idle for exactly 3600 s: expired (fail closed at the boundary)
      assert.equal((await http.get(`/sessions/validate/${a.sessionId}`, { token: b.accessToken })).body.valid, false);
      const list = await http.get('/sessions', { token: b.accessToken });
      assert.deepEqual(list.body.data.map((s: any) => s.id), [b.sessionId]);
      assert.equal((await http.get('/sessions/count', { token: b.accessToken })).body.count, 1);
      assert.equal((await http.post('/auth/refresh', { refreshToken: a.refreshToken })).status, 401);
      // b was active at 3599 s, so it lives on
      clock.advanceSeconds(3000);
      assert.equal((await http.get('/auth/me', { token: b.accessToken })).status, 200);
    });

    test('absolute lifetime: even a constantly used session ends', async (t) => {
      const env = await startApp(t, backend, { config });
      if (!env) return;
      const { http, clock } = env;
      const a = await registerUser(http);
      let tokens = { accessToken: a.accessToken, refreshToken: a.refreshToken };
      for (let elapsed = 0; elapsed < 4 * 3600 - 1800; elapsed += 1800) {
        clock.advanceSeconds(1800);
        const r = await http.post('/auth/refresh', { refreshToken: tokens.refreshToken });
        assert.equal(r.status, 200, `refresh at ${elapsed + 1800}s`);
        tokens = r.body;
      }
      const before = await http.get(`/sessions/validate/${a.sessionId}`, { token: tokens.accessToken });
      assert.equal(Date.parse(before.body.expiresAt), Date.parse('2026-11-27T12:00:00.000Z') + 4 * 3600 * 1000, 'expiresAt is the absolute limit once it is sooner');
      clock.advanceSeconds(1800); // 4 h after sign-in
      assert.equal((await http.get('/auth/me', { token: tokens.accessToken })).status, 401);
      assert.equal((await http.post('/auth/refresh', { refreshToken: tokens.refreshToken })).status, 401);
    });

    test('lastActiveAt: real use moves it, at most one write per minute', async (t) => {
      const env = await startApp(t, backend, { config });
      if (!env) return;
      const { http, clock } = env;
      const a = await registerUser(http);
      const created = Number((await row(env, a.sessionId)).last_active_at);
      clock.advanceSeconds(30);
      await http.get('/auth/me', { token: a.accessToken });
      assert.equal(Number((await row(env, a.sessionId)).last_active_at), created, 'within a minute: no write');
      clock.advanceSeconds(31);
      await http.get('/auth/me', { token: a.accessToken });
      // the write is fire-and-forget; give it a moment on the real database
      let stored = 0;
      for (let i = 0; i < 50 && stored !== created + 61_000; i++) {
        stored = Number((await row(env, a.sessionId)).last_active_at);
        if (stored !== created + 61_000) await new Promise((r) => setImmediate(r));
      }
      assert.equal(stored, created + 61_000);
      const listed = await http.get('/sessions', { token: a.accessToken });
      assert.equal(listed.body.data[0].lastActiveAt, new Date(created + 61_000).toISOString());
    });

    test('sweep marks expired sessions with their reason, then purges old history in batches', async (t) => {
      const env = await startApp(t, backend, { config });
      if (!env) return;
      const { http, clock, app } = env;
      const a = await registerUser(http);
      const b = await login(http, a);
      const c = await login(http, a);
      await http.delete(`/sessions/${c.sessionId}`, { token: a.accessToken });
      clock.advanceSeconds(1800);
      await http.get('/auth/me', { token: b.accessToken }); // b stays active
      clock.advanceSeconds(1800); // a idle-expired
      const first = await app.sessiond.sessions.sweep({ retentionMs: 24 * 3600_000, batchSize: 1, maxBatches: 10 });
      assert.deepEqual(first, { expired: 1, purged: 0 });
      assert.equal((await row(env, a.sessionId)).revoke_reason, 'idle_timeout');
      clock.advanceSeconds(4 * 3600); // b hits its absolute limit
      const second = await app.sessiond.sessions.sweep({ retentionMs: 24 * 3600_000, batchSize: 1, maxBatches: 10 });
      assert.deepEqual(second, { expired: 1, purged: 0 });
      assert.equal((await row(env, b.sessionId)).revoke_reason, 'absolute_timeout');
      clock.advanceSeconds(25 * 3600);
      const third = await app.sessiond.sessions.sweep({ retentionMs: 24 * 3600_000, batchSize: 2, maxBatches: 10 });
      assert.deepEqual(third, { expired: 0, purged: 3 });
      const left = await app.sessiond.database.db.selectFrom('sessions').select('id').execute();
      assert.equal(left.length, 0);
    });
  });

  describe(`session limits and sign-out of other devices (${backend})`, () => {
    test('evict mode: the least recently active session makes room', async (t) => {
      const env = await startApp(t, backend, { config: { maxSessionsPerUser: 2, sessionLimitMode: 'evict' } });
      if (!env) return;
      const { http, clock } = env;
      const a = await registerUser(http);
      clock.advanceSeconds(120);
      const b = await login(http, a);
      clock.advanceSeconds(120);
      await http.get('/auth/me', { token: a.accessToken }); // a is now more recently active than b
      clock.advanceSeconds(120);
      const c = await login(http, a);
      const list = await http.get('/sessions', { token: c.accessToken });
      assert.deepEqual(list.body.data.map((s: any) => s.id).sort(), [a.sessionId, c.sessionId].sort());
      assert.equal((await http.get('/auth/me', { token: b.accessToken })).status, 401);
      assert.equal((await row(env, b.sessionId)).revoke_reason, 'session_limit');
    });

    test('refuse mode: the new sign-in gets a clear 409 and nothing changes', async (t) => {
      const env = await startApp(t, backend, { config: { maxSessionsPerUser: 2, sessionLimitMode: 'refuse' } });
      if (!env) return;
      const { http } = env;
      const a = await registerUser(http);
      await login(http, a);
      const third = await http.post('/auth/login', { email: a.email, password: a.password });
      assert.equal(third.status, 409);
      assert.equal(third.body.type, 'urn:sessiond:problem:session-limit-reached');
      assert.match(third.body.detail, /2 active sessions/);
      assert.equal((await http.get('/sessions/count', { token: a.accessToken })).body.count, 2);
    });

    test('concurrent sign-ins never exceed the limit', async (t) => {
      const env = await startApp(t, backend, { config: { maxSessionsPerUser: 3, sessionLimitMode: 'refuse' } });
      if (!env) return;
      const { http } = env;
      const a = await registerUser(http);
      const results = await Promise.all(Array.from({ length: 8 }, () => http.post('/auth/login', { email: a.email, password: a.password })));
      assert.ok(results.every((r) => r.status === 200 || r.status === 409), `statuses: ${results.map((r) => r.status).join(',')}`);
      assert.equal(results.filter((r) => r.status === 200).length, 2);
      assert.equal((await http.get('/sessions/count', { token: a.accessToken })).body.count, 3);
    });

    test('DELETE /sessions?keepCurrent=true keeps exactly the current session', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http } = env;
      const a = await registerUser(http);
      const others = [await login(http, a), await login(http, a), await login(http, a)];
      const res = await http.delete('/sessions?keepCurrent=true', { token: a.accessToken });
      assert.deepEqual([res.status, res.body], [200, { revokedCount: 3 }]);
      const list = await http.get('/sessions', { token: a.accessToken });
      assert.deepEqual(list.body.data.map((s: any) => s.id), [a.sessionId]);
      for (const o of others) assert.equal((await http.get('/auth/me', { token: o.accessToken })).status, 401);
      assert.equal((await http.delete('/sessions?keepCurrent=maybe', { token: a.accessToken })).status, 400);
    });
  });
}
