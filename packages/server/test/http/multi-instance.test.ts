// test-tier: full (Redis, PostgreSQL, service processes)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createPostgresDatabase } from '../helpers/backends.ts';
import { login, registerUser } from '../helpers/http.ts';
import { startPrivateRedis, startServiceProcess, waitUntil, type ServiceProcess } from '../helpers/processes.ts';

/**
 * Two real service processes (what `npm start` runs) on one PostgreSQL database and one Redis.
 * These need PostgreSQL and redis-server: a missing one fails the test (they are never skipped).
 */
async function cluster(t: import('node:test').TestContext, extraEnv: Record<string, string> = {}) {
  const { url, drop } = await createPostgresDatabase();
  t.after(drop);
  const redis = await startPrivateRedis(t);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-multi-'));
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const env = { DATABASE_URL: url, REDIS_URL: redis.url, DATA_DIR: dataDir, ...extraEnv };
  // Sequential: the first creates the schema and the shared key file.
  const a = await startServiceProcess(t, env);
  const b = await startServiceProcess(t, env);
  return { a, b, redis };
}

const refused = (svc: ServiceProcess, token: string) => async () => (await svc.http.get('/auth/me', { token })).status === 401;

// Longer than the 60 s default, for the suite and its tests: several service processes and a private Redis.
describe('many instances on PostgreSQL + Redis', { timeout: 240_000 }, () => {
  test('revoke on A is refused on B at once (push), revoke-all on B refused on A; Redis FLUSHALL changes nothing', async (t) => {
    // A long poll interval: only the push channels can explain a fast refusal.
    const { a, b, redis } = await cluster(t, { REVOCATION_POLL_INTERVAL_MS: '60000' });
    const user = await registerUser(a.http);
    const other = await login(b.http, user);
    const third = await login(a.http, user);
    // both instances accept every session's token (any instance can take any request)
    for (const svc of [a, b]) for (const s of [user, other, third]) assert.equal((await svc.http.get('/auth/me', { token: s.accessToken })).status, 200);

    assert.equal((await a.http.delete(`/sessions/${other.sessionId}`, { token: user.accessToken })).status, 200);
    const elapsed = await waitUntil(refused(b, other.accessToken), 1000);
    assert.ok(elapsed >= 0, 'B refused the revoked session');
    t.diagnostic(`revocation A -> B observed after ${elapsed.toFixed(1)} ms`);
    assert.ok(elapsed < 500, `propagation took ${elapsed} ms; push should take milliseconds`);

    // Redis holds no session state: flushing it loses nothing
    const r = new Redis(redis.url);
    r.on('error', () => {});
    await r.flushall();
    r.disconnect();
    assert.equal((await b.http.get('/auth/me', { token: other.accessToken })).status, 401);
    assert.equal((await a.http.get('/auth/me', { token: other.accessToken })).status, 401);

    const all = await b.http.delete('/sessions', { token: third.accessToken });
    assert.deepEqual(all.body, { revokedCount: 2 });
    for (const s of [user, third]) {
      assert.ok((await waitUntil(refused(a, s.accessToken), 1000)) >= 0, 'A refuses every token after revoke-all on B');
    }
  });

  test('Redis restarted between revocation and check: still refused; cache re-synced after the gap', async (t) => {
    const { a, b, redis } = await cluster(t, { PG_NOTIFY: 'off', REVOCATION_POLL_INTERVAL_MS: '200' });
    const user = await registerUser(a.http);
    const victim = await login(a.http, user);
    assert.equal((await b.http.get('/auth/me', { token: victim.accessToken })).status, 200); // B caches it
    await redis.stop();
    assert.equal((await a.http.delete(`/sessions/${victim.sessionId}`, { token: user.accessToken })).status, 200, 'revocation works with Redis down');
    await redis.start();
    // B heard nothing over Redis; the feed (poll 200 ms, trust bound 900 ms) refuses it within the bound
    const elapsed = await waitUntil(refused(b, victim.accessToken), 3000);
    assert.ok(elapsed >= 0, 'refused within the staleness bound');
    t.diagnostic(`refused on B ${elapsed.toFixed(0)} ms after the revocation, without pub/sub`);
    // and it stays refused
    for (let i = 0; i < 5; i++) assert.equal((await b.http.get('/auth/me', { token: victim.accessToken })).status, 401);
    assert.equal((await b.http.get('/auth/me', { token: user.accessToken })).status, 200, 'live sessions keep working');
  });

  test('a subscriber cut from pub/sub still refuses within the staleness bound', async (t) => {
    const { a, b, redis } = await cluster(t, { PG_NOTIFY: 'off', REVOCATION_POLL_INTERVAL_MS: '300' });
    const user = await registerUser(a.http);
    const victim = await login(a.http, user);
    assert.equal((await b.http.get('/auth/me', { token: victim.accessToken })).status, 200);
    // Cut B's subscription without B noticing at once: pause every client's replies...
    const admin = new Redis(redis.url);
    admin.on('error', () => {});
    t.after(() => admin.disconnect());
    await admin.call('CLIENT', 'PAUSE', '5000', 'ALL');
    const started = performance.now();
    await a.http.delete(`/sessions/${victim.sessionId}`, { token: user.accessToken });
    const elapsed = await waitUntil(refused(b, victim.accessToken), 3000);
    assert.ok(elapsed >= 0, 'refused while pub/sub is stalled');
    const bound = 2 * 300 + 500 + 300; // trust bound plus one poll
    t.diagnostic(`refused after ${(performance.now() - started).toFixed(0)} ms (bound ${bound} ms)`);
    assert.ok(performance.now() - started < bound + 1500, 'within the bound (plus scheduling slack)');
    await admin.call('CLIENT', 'UNPAUSE');
  });

  test('WORKERS=2: one `npm start` with two worker processes shares revocations between them', async (t) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-workers-'));
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const svc = await startServiceProcess(t, { WORKERS: '2', DATA_DIR: dataDir, REVOCATION_POLL_INTERVAL_MS: '60000' });
    const user = await registerUser(svc.http);
    const victim = await login(svc.http, user);
    // spread requests so both workers have the session cached
    await Promise.all(Array.from({ length: 20 }, () => svc.http.get('/auth/me', { token: victim.accessToken })));
    assert.equal((await svc.http.delete(`/sessions/${victim.sessionId}`, { token: user.accessToken })).status, 200);
    await new Promise((r) => setTimeout(r, 50)); // IPC relay through the primary
    const after = await Promise.all(Array.from({ length: 20 }, () => svc.http.get('/auth/me', { token: victim.accessToken })));
    assert.deepEqual([...new Set(after.map((r) => r.status))], [401]);
    const pids = execFileSync('pgrep', ['-P', String(svc.child.pid)]).toString().trim().split('\n');
    assert.equal(pids.length, 2, 'two worker processes');
  });
  test('WORKERS=2 without Redis: the rate limits hold for the whole server, not per worker (the primary keeps the counters)', async (t) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-workers-limits-'));
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const svc = await startServiceProcess(t, { WORKERS: '2', DATA_DIR: dataDir, RATE_LIMIT: 'on', TRUST_PROXY: '127.0.0.1', LOGIN_FAILURES_BEFORE_DELAY: '5', RATE_LIMIT_PER_IP_PER_MINUTE: '6' });
    const victim = await registerUser(svc.http);
    // Which worker answered: a generated request id starts with its process's prefix.
    const workerOf = (r: Response) => r.headers.get('x-request-id')!.split('-')[0]!;
    const signIn = (address: string, email: string, password: string) =>
      fetch(`${svc.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address, connection: 'close' },
        body: JSON.stringify({ email, password }),
      }).then(async (r) => (await r.arrayBuffer(), { status: r.status, worker: workerOf(r) }));
    // Both workers listening first (the service answers as soon as one does).
    const seen = new Set<string>();
    for (const deadline = Date.now() + 20_000; seen.size < 2 && Date.now() < deadline; ) {
      const r = await fetch(`${svc.url}/health`, { headers: { connection: 'close' } });
      seen.add(workerOf(r));
    }
    assert.equal(seen.size, 2, 'two workers answer');
    // 30 wrong guesses at once, each from its own address, on 30 connections: the primary hands
    // connections to the two workers in turn. Counted per worker, about 10 would reach the password
    // check; counted by the primary for the whole server, 5 (plus one per back-off step).
    const started = performance.now();
    const guesses = await Promise.all(Array.from({ length: 30 }, (_, i) => signIn(`10.8.0.${i + 1}`, victim.email, `wrong guess ${i}`)));
    const elapsedMs = performance.now() - started;
    let allowed = 5;
    for (let k = 1; (2 ** k - 1) * 1000 <= elapsedMs; k++) allowed++;
    const checked = guesses.filter((g) => g.status === 401).length;
    t.diagnostic(`${checked} of 30 guesses reached the password check in ${elapsedMs.toFixed(0)} ms (allowed ${allowed}); answered by ${new Set(guesses.map((g) => g.worker)).size} workers`);
    assert.equal(new Set(guesses.map((g) => g.worker)).size, 2, 'both workers answered guesses');
    assert.equal(checked + guesses.filter((g) => g.status === 429).length, 30, JSON.stringify(guesses));
    assert.ok(checked >= 5 && checked <= allowed, `${checked} guesses checked; the bound is ${allowed} for the whole server`);
    // The per-address limit too: 6 a minute from one address, whichever worker answers.
    const fromOne = await Promise.all(Array.from({ length: 12 }, (_, i) => signIn('10.7.7.7', `nobody${i}@example.com`, 'whatever it is')));
    assert.equal(new Set(fromOne.map((g) => g.worker)).size, 2, 'both workers answered');
    assert.equal(fromOne.filter((g) => g.status !== 429).length, 6, JSON.stringify(fromOne));
  });

  test('an account deleted on A (DELETE /auth/me), or a password changed on B: every token refused on the other at once (push)', async (t) => {
    // A long poll interval: only the push channels can explain a fast refusal.
    const { a, b } = await cluster(t, { REVOCATION_POLL_INTERVAL_MS: '60000' });
    const user = await registerUser(a.http);
    const phone = await login(b.http, user);
    for (const svc of [a, b]) for (const s of [user, phone]) assert.equal((await svc.http.get('/auth/me', { token: s.accessToken })).status, 200);
    const changed = await b.http.post('/auth/password', { currentPassword: user.password, newPassword: 'a new long passphrase' }, { token: phone.accessToken });
    assert.equal(changed.status, 200, changed.text);
    const afterChange = await waitUntil(refused(a, user.accessToken), 1000);
    assert.ok(afterChange >= 0 && afterChange < 500, `password change on B refused on A after ${afterChange} ms; push should take milliseconds`);
    const deleted = await a.http.request('DELETE', '/auth/me', { token: phone.accessToken, body: { password: 'a new long passphrase' } });
    assert.equal(deleted.status, 204, deleted.text);
    const afterDelete = await waitUntil(refused(b, phone.accessToken), 1000);
    assert.ok(afterDelete >= 0 && afterDelete < 500, `deletion on A refused on B after ${afterDelete} ms; push should take milliseconds`);
    t.diagnostic(`password change B -> A ${afterChange.toFixed(1)} ms; deletion A -> B ${afterDelete.toFixed(1)} ms`);
    assert.equal((await a.http.get('/auth/me', { token: phone.accessToken })).status, 401);
  });
});
