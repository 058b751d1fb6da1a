// test-tier: full (Redis, PostgreSQL, private servers)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { generateKeyMaterial } from '../../src/tokens/key-store.ts';
import { testConfig } from '../helpers/app.ts';
import { HttpClient, login, registerUser, type SignedIn } from '../helpers/http.ts';
import { startPrivatePostgres } from '../helpers/private-postgres.ts';
import { startPrivateRedis } from '../helpers/processes.ts';

/**
 * Faults with the real backing services: a private PostgreSQL and a private Redis that the test
 * stops and restarts under load. Never skipped: a missing server fails the test.
 */
type Instance = { http: HttpClient; close: () => Promise<void> };

async function instance(t: import('node:test').TestContext, databaseUrl: string, redisUrl: string | undefined, keys: ReturnType<typeof generateKeyMaterial>, poll = 200): Promise<Instance> {
  const app = await buildApp(testConfig({ databaseUrl, redisUrl, revocationPollIntervalMs: poll }), { keys });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  t.after(() => app.close());
  return { http: new HttpClient(url), close: () => app.close() };
}

/** Bounded load: `workers` loops calling `fn` until stopped; collects statuses and latencies. */
function load(workers: number, fn: () => Promise<number>) {
  const statuses: number[] = [];
  const slowest = { ms: 0 };
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const started = performance.now();
      let status: number;
      try {
        status = await fn();
      } catch {
        status = -1; // connection-level failure
      }
      slowest.ms = Math.max(slowest.ms, performance.now() - started);
      statuses.push(status);
    }
  });
  return {
    statuses,
    slowest,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

const countBy = (xs: number[]) => xs.reduce<Record<number, number>>((acc, x) => ((acc[x] = (acc[x] ?? 0) + 1), acc), {});

// Longer than the 60 s default, for the suite and its tests: private PostgreSQL and Redis servers, stopped and restarted.
describe('faults', { timeout: 180_000 }, () => {
  test('PostgreSQL restarted under load: fast 503 problem details while down, recovery without a service restart, no revoked session accepted', async (t) => {
    const pg = await startPrivatePostgres(t);
    const keys = generateKeyMaterial(Date.now());
    const a = await instance(t, pg.url, undefined, keys);
    const user = await registerUser(a.http);
    const revoked = await login(a.http, user);
    await a.http.delete(`/sessions/${revoked.sessionId}`, { token: user.accessToken });

    const traffic = load(4, async () => (await a.http.get('/sessions', { token: user.accessToken })).status);
    const revokedChecks = load(1, async () => (await a.http.get('/auth/me', { token: revoked.accessToken })).status);
    await new Promise((r) => setTimeout(r, 300));
    pg.stop('immediate');
    const downSince = performance.now();
    await new Promise((r) => setTimeout(r, 1500));
    const during = await a.http.get('/sessions/count', { token: user.accessToken });
    assert.equal(during.status, 503, `while down: ${during.status} ${during.text}`);
    assert.equal(during.body.type, 'urn:sessiond:problem:service-unavailable');
    assert.equal(during.headers.get('retry-after'), '1');
    assert.ok(!during.text.includes('ECONNREFUSED') && !during.text.includes('at '), 'no internals in the answer');
    pg.start();
    const backAfter = performance.now() - downSince;
    // recovers by itself within seconds
    let recoveredMs = -1;
    const since = performance.now();
    while (performance.now() - since < 10_000) {
      if ((await a.http.get('/sessions/count', { token: user.accessToken })).status === 200) {
        recoveredMs = performance.now() - since;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await traffic.stop();
    await revokedChecks.stop();
    t.diagnostic(`down ${backAfter.toFixed(0)} ms; recovered ${recoveredMs.toFixed(0)} ms after restart; statuses ${JSON.stringify(countBy(traffic.statuses))}; slowest ${traffic.slowest.ms.toFixed(0)} ms`);
    assert.ok(recoveredMs >= 0, 'the service recovered without a restart');
    assert.deepEqual(Object.keys(countBy(traffic.statuses)).map(Number).filter((s) => s !== 200 && s !== 503), [], 'only 200 or 503, never 500 or a dropped connection');
    assert.ok(traffic.slowest.ms < 6000, `no request hung (slowest ${traffic.slowest.ms} ms)`);
    assert.ok(revokedChecks.statuses.every((s) => s === 401 || s === 503), `the revoked session was never accepted: ${JSON.stringify(countBy(revokedChecks.statuses))}`);
    assert.equal((await a.http.get('/auth/me', { token: revoked.accessToken })).status, 401);
  });

  test('Redis stopped under load: sign-in and checks keep working on PostgreSQL alone; revocations still reach the other instance; Redis used again when back', async (t) => {
    const pg = await startPrivatePostgres(t);
    const redis = await startPrivateRedis(t);
    const keys = generateKeyMaterial(Date.now());
    const a = await instance(t, pg.url, redis.url, keys);
    const b = await instance(t, pg.url, redis.url, keys);
    const user = await registerUser(a.http);
    const sessions: SignedIn[] = [];
    for (let i = 0; i < 6; i++) sessions.push(await login(i % 2 ? a.http : b.http, user));
    for (const s of sessions) assert.equal((await b.http.get('/auth/me', { token: s.accessToken })).status, 200); // cached on B

    const traffic = load(3, async () => (await b.http.get('/sessions/count', { token: user.accessToken })).status);
    await redis.stop();
    // revocations while Redis is down, then while it restarts, then after
    const revokedIds: SignedIn[] = [];
    for (const s of sessions.slice(0, 2)) {
      assert.equal((await a.http.delete(`/sessions/${s.sessionId}`, { token: user.accessToken })).status, 200);
      revokedIds.push(s);
    }
    const signIn = await a.http.post('/auth/login', { email: user.email, password: user.password });
    assert.equal(signIn.status, 200, 'sign-in works without Redis (rate-limit counters fall back to memory)');
    await redis.start();
    for (const s of sessions.slice(2, 4)) {
      assert.equal((await b.http.delete(`/sessions/${s.sessionId}`, { token: user.accessToken })).status, 200);
      revokedIds.push(s);
    }
    await new Promise((r) => setTimeout(r, 1500)); // Redis reconnects (ioredis retries) and the poll bound passes
    for (const s of sessions.slice(4, 6)) {
      assert.equal((await a.http.delete(`/sessions/${s.sessionId}`, { token: user.accessToken })).status, 200);
      revokedIds.push(s);
    }
    await traffic.stop();
    assert.deepEqual(Object.keys(countBy(traffic.statuses)), ['200'], `checks kept working: ${JSON.stringify(countBy(traffic.statuses))}`);
    // no revocation lost: every revoked session refused on every instance, within the poll bound
    for (const instanceUnderTest of [a, b]) {
      for (const s of revokedIds) {
        let status = 0;
        const started = performance.now();
        while (performance.now() - started < 2000 && status !== 401) status = (await instanceUnderTest.http.get('/auth/me', { token: s.accessToken })).status;
        assert.equal(status, 401, 'revoked session refused');
      }
    }
    assert.equal((await a.http.get('/auth/me', { token: user.accessToken })).status, 200);
  });
});
