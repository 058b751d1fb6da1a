// test-tier: full (slow: 17 s of SQLite suites, measured on the loaded shared machine)
// GET /revocations/stream and GET /revocations over real HTTP, on both backends: who may read them,
// snapshot then live, resumption from Last-Event-ID, reset of an old cursor, headers, heartbeats,
// a revoked service key, and a graceful close with streams open.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startApp } from '../helpers/app.ts';
import { backendNames } from '../helpers/backends.ts';
import { TestClock } from '../helpers/clock.ts';
import { isProblem, login, registerUser } from '../helpers/http.ts';
import { serviceKeysOf } from '../helpers/service-keys.ts';
import { openSse } from '../helpers/sse.ts';

for (const backend of backendNames) {
  describe(`revocation stream (${backend})`, () => {
    async function setup(t: Parameters<typeof startApp>[0]) {
      const started = await startApp(t, backend, { clock: new TestClock(Date.now()) });
      if (!started) return undefined;
      const keys = serviceKeysOf(() => started.app);
      return { ...started, keys, key: await keys.create() };
    }

    test('refuses missing and bad keys, user tokens and admin keys with a 401 problem; a key without the scope with 403', async (t) => {
      const s = await setup(t);
      if (!s) return;
      const user = await registerUser(s.http);
      const admin = await s.app.sessiond.adminKeys.create('ops', s.clock.now());
      const cases: Array<[string, Record<string, string>, number]> = [
        ['no key', {}, 401],
        ['malformed key', { 'x-service-key': 'nope' }, 401],
        ['unknown key', { 'x-service-key': `sdk_svc_0123456789abcdef.${'A'.repeat(43)}` }, 401],
        ['user token', { authorization: `Bearer ${user.accessToken}` }, 401],
        ['user token as key', { 'x-service-key': user.accessToken }, 401],
        ['admin key', { 'x-admin-key': admin.secret }, 401],
        ['admin key as service key', { 'x-service-key': admin.secret }, 401],
        ['key without revocations:read', { 'x-service-key': await s.keys.create(['sessions:issue']) }, 403],
      ];
      for (const [name, headers, status] of cases) {
        for (const path of ['/revocations/stream', '/revocations']) {
          const res: Awaited<ReturnType<typeof s.http.get>> = await s.http.get(path, { headers });
          assert.equal(res.status, status, `${name} on ${path}`);
          assert.ok(isProblem(res), `${name} on ${path}: problem details`);
        }
      }
      const malformed = await s.http.get('/revocations/stream', { headers: { 'x-service-key': s.key, 'last-event-id': 'abc' } });
      assert.equal(malformed.status, 400);
      assert.ok(isProblem(malformed));
      const badAfter = await s.http.get('/revocations?after=-1', { headers: { 'x-service-key': s.key } });
      assert.equal(badAfter.status, 400);
    });

    test('snapshot, then live, then each end as it commits; ids resume with nothing skipped; heartbeats', async (t) => {
      const s = await setup(t);
      if (!s) return;
      const a = await registerUser(s.http);
      const b = await login(s.http, a);
      assert.equal((await s.http.delete(`/sessions/${b.sessionId}`, { token: a.accessToken })).status, 200);

      const stream = await openSse(`${s.url}/revocations/stream`, { 'x-service-key': s.key });
      t.after(() => stream.close());
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(stream.headers.get('cache-control'), 'no-cache');
      assert.equal(stream.headers.get('x-accel-buffering'), 'no');
      const snap = await stream.next('revoked');
      assert.deepEqual(snap.data, { sessionId: b.sessionId, userId: a.userId, reason: 'user_revoked', endedAt: new Date(s.clock.now()).toISOString() });
      assert.ok(snap.id);
      const live = await stream.next('live');
      assert.match(live.id ?? '', /^\d+~/);
      assert.equal(live.data.tokenLifetimeSeconds, 900);

      // Live: a logout, then an eviction-free revoke-all, as they commit.
      const c = await login(s.http, a);
      const d = await login(s.http, a);
      assert.equal((await s.http.post('/auth/logout', undefined, { token: c.accessToken })).status, 204);
      const ended = await stream.next('revoked');
      assert.equal(ended.data.sessionId, c.sessionId);
      assert.equal(ended.data.reason, 'user_logout');
      assert.ok(ended.id && ended.id !== live.id);

      // Resume from the live event's id: the logout comes again (nothing after the cursor is skipped).
      const resumed = await openSse(`${s.url}/revocations/stream`, { 'x-service-key': s.key, 'last-event-id': live.id! });
      t.after(() => resumed.close());
      const again = await resumed.next('revoked');
      assert.ok([b.sessionId, c.sessionId].includes(again.data.sessionId));
      const seen = new Set<string>();
      await resumed.next('live');
      for (const e of resumed.events) if (e.event === 'revoked') seen.add(e.data.sessionId);
      assert.ok(seen.has(c.sessionId), 'the end after the cursor is delivered on resume');
      assert.ok(!resumed.events.some((e) => e.event === 'reset'));

      assert.equal((await s.http.delete('/sessions', { token: a.accessToken })).status, 200);
      const all = new Set<string>();
      while (all.size < 2) all.add((await stream.next('revoked')).data.sessionId);
      assert.deepEqual([...all].sort(), [a.sessionId, d.sessionId].sort());

      // A heartbeat at least every 5 s (sessiond sends one a second).
      const before = stream.comments;
      await new Promise((r) => setTimeout(r, 1300));
      assert.ok(stream.comments > before, 'a heartbeat arrived');
    });

    test('every kind of end is streamed: limit eviction, sweeper expiry, admin revocation, reuse detection', async (t) => {
      const s = await startApp(t, backend, { clock: new TestClock(Date.now()), config: { maxSessionsPerUser: 1, sessionLimitMode: 'evict', sessionIdleTimeoutSeconds: 600 } });
      if (!s) return;
      const keys = serviceKeysOf(() => s.app);
      const stream = await openSse(`${s.url}/revocations/stream`, { 'x-service-key': await keys.create() });
      t.after(() => stream.close());
      await stream.next('live');
      const a = await registerUser(s.http);
      const b = await login(s.http, a); // evicts a
      assert.deepEqual((await stream.next('revoked')).data, { sessionId: a.sessionId, userId: a.userId, reason: 'session_limit', endedAt: new Date(s.clock.now()).toISOString() });
      s.clock.advanceSeconds(601);
      await s.app.sessiond.sessions.sweep({ retentionMs: 86_400_000, batchSize: 100, maxBatches: 1 });
      const expired = await stream.next('revoked');
      assert.equal(expired.data.sessionId, b.sessionId);
      assert.equal(expired.data.reason, 'idle_timeout');
      const c = await login(s.http, a);
      const admin = await s.app.sessiond.adminKeys.create('ops', s.clock.now());
      assert.equal((await s.http.delete(`/admin/sessions/${c.sessionId}`, { headers: { 'x-admin-key': admin.secret } })).status, 200);
      assert.equal((await stream.next('revoked')).data.reason, 'admin');
      const d = await login(s.http, a);
      const rotated = await s.http.post('/auth/refresh', { refreshToken: d.refreshToken });
      assert.equal(rotated.status, 200);
      s.clock.advanceSeconds(120); // past the reuse grace window
      assert.equal((await s.http.post('/auth/refresh', { refreshToken: d.refreshToken })).status, 401);
      assert.deepEqual((await stream.next('revoked')).data.reason, 'refresh_token_reused');
    });

    test('an end that commits late (a lower id committed after a higher one was streamed) is still delivered, live and on resume', async (t) => {
      const s = await setup(t);
      if (!s) return;
      const a = await registerUser(s.http);
      const b = await login(s.http, a);
      const stream = await openSse(`${s.url}/revocations/stream`, { 'x-service-key': s.key });
      t.after(() => stream.close());
      const live = await stream.next('live');
      // A slow transaction: its session.revoked event takes its id now and commits later (injected
      // with a transaction of our own on the app's database, held open across a faster revocation).
      const db = s.app.sessiond.database.db;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const slow = db.transaction().execute(async (trx) => {
        await trx.insertInto('session_events').values({ type: 'session.revoked', session_id: a.sessionId, user_id: a.userId, reason: 'admin', occurred_at: s.clock.now(), data: null }).execute();
        await held;
      });
      if (backend === 'sqlite') {
        // SQLite serialises writers: nothing can overtake; the point is made on PostgreSQL.
        release();
        await slow;
      }
      assert.equal((await s.http.post('/auth/logout', undefined, { token: b.accessToken })).status, 204);
      const fast = await stream.next('revoked');
      if (backend === 'postgres') {
        assert.equal(fast.data.sessionId, b.sessionId, 'the later id arrives first');
        release();
        await slow;
      }
      const late = backend === 'postgres' ? await stream.next('revoked') : fast;
      assert.equal(late.data.sessionId, a.sessionId, 'the late commit is delivered');
      // Resuming from the id before both delivers both again; nothing is skipped.
      const resumed = await openSse(`${s.url}/revocations/stream`, { 'x-service-key': s.key, 'last-event-id': live.id! });
      t.after(() => resumed.close());
      await resumed.next('live');
      const ids = resumed.events.filter((e) => e.event === 'revoked').map((e) => e.data.sessionId);
      assert.deepEqual([...new Set(ids)].sort(), [a.sessionId, b.sessionId].sort());
    });

    test('a cursor older than the token lifetime restarts from the snapshot and says so; GET /revocations pages', async (t) => {
      const s = await setup(t);
      if (!s) return;
      const a = await registerUser(s.http);
      await s.http.post('/auth/logout', undefined, { token: a.accessToken });
      const first = await openSse(`${s.url}/revocations/stream`, { 'x-service-key': s.key });
      const old = await first.next('revoked');
      first.close();

      // Poll: the first page is the snapshot; `next` continues with what commits later.
      const page = await s.http.get('/revocations', { headers: { 'x-service-key': s.key } });
      assert.equal(page.status, 200);
      assert.deepEqual(page.body.data.map((e: any) => e.sessionId), [a.sessionId]);
      const empty = await s.http.get(`/revocations?after=${encodeURIComponent(page.body.next)}`, { headers: { 'x-service-key': s.key } });
      assert.deepEqual(empty.body.data, []);
      const c = await registerUser(s.http);
      const d = await login(s.http, c);
      await s.http.delete('/sessions', { token: c.accessToken });
      const one = await s.http.get(`/revocations?after=${encodeURIComponent(empty.body.next)}&limit=1`, { headers: { 'x-service-key': s.key } });
      assert.equal(one.body.data.length, 1);
      const two = await s.http.get(`/revocations?after=${encodeURIComponent(one.body.next)}&limit=10`, { headers: { 'x-service-key': s.key } });
      assert.deepEqual([...one.body.data, ...two.body.data].map((e: any) => e.sessionId).sort(), [c.sessionId, d.sessionId].sort(), 'paged with nothing skipped or repeated');
      assert.equal((await s.http.get('/revocations?after=12~a', { headers: { 'x-service-key': s.key } })).status, 400);

      s.clock.advance(16 * 60_000 + 60_000);
      const b = await registerUser(s.http);
      await s.http.post('/auth/logout', undefined, { token: b.accessToken });
      const resumed = await openSse(`${s.url}/revocations/stream`, { 'x-service-key': s.key, 'last-event-id': old.id! });
      t.after(() => resumed.close());
      await resumed.next('reset');
      const fresh = await resumed.next('revoked');
      assert.equal(fresh.data.sessionId, b.sessionId, 'the snapshot holds only ends within the token lifetime');
      await resumed.next('live');
      assert.ok(!resumed.events.some((e) => e.event === 'revoked' && e.data.sessionId === a.sessionId));
      const reset = await s.http.get(`/revocations?after=${encodeURIComponent(old.id!)}`, { headers: { 'x-service-key': s.key } });
      assert.equal(reset.body.reset, true);
      assert.deepEqual(reset.body.data.map((e: any) => e.sessionId), [b.sessionId]);
    });

    test('a service key revoked while streaming ends its stream; close() ends every open stream', async (t) => {
      const s = await setup(t);
      if (!s) return;
      const other = await s.keys.create();
      const doomed = await openSse(`${s.url}/revocations/stream`, { 'x-service-key': s.key });
      const kept = await openSse(`${s.url}/revocations/stream`, { 'x-service-key': other });
      await doomed.next('live');
      await kept.next('live');
      const user = await registerUser(s.http);
      const devices = await openSse(`${s.url}/sessions/events`, { authorization: `Bearer ${user.accessToken}` });
      await devices.next('ready');
      await s.keys.revoke(s.key);
      const started = Date.now();
      await doomed.closed;
      const elapsed = Date.now() - started;
      assert.ok(elapsed <= 5000 + 2000, `stream ended ${elapsed} ms after the key was revoked (bound: 5 s + a query)`);
      assert.ok(!kept.isClosed(), 'streams of other keys go on');
      const closing = Date.now();
      await s.app.close();
      await Promise.all([kept.closed, devices.closed]);
      assert.ok(Date.now() - closing < 3000, 'graceful close does not wait for open streams');
    });
  });
}
