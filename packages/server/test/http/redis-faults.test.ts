// test-tier: full (Redis, PostgreSQL, service processes)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startApp } from '../helpers/app.ts';
import { createPostgresDatabase } from '../helpers/backends.ts';
import { login, registerUser } from '../helpers/http.ts';
import { freePort, startPrivateRedis, startServiceProcess, waitUntil, type ServiceProcess } from '../helpers/processes.ts';

/**
 * Redis is optional: real service processes on PostgreSQL with REDIS_URL pointing at a redis-server of
 * the test's own, which the test leaves unreachable, hangs (SIGSTOP), kills and brings back. The
 * service starts within 5 s whatever Redis does, serves, answers /ready 200 (reporting Redis), and
 * its revocation push over Redis recovers by itself. PostgreSQL is not faulted here (a fresh database
 * on the machine's server); PostgreSQL and redis-server are required: a missing one fails the test.
 */
const START_BOUND_MS = 5000;

async function setup(t: TestContext) {
  const { url, drop } = await createPostgresDatabase();
  t.after(drop);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-redis-faults-'));
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  return { DATABASE_URL: url, DATA_DIR: dataDir };
}

/**
 * Starts a service process and asserts it was serving within 5 s of starting to build the app: the
 * `startMs` of its start announcement (node and tsx loading the sources come before and do not
 * depend on Redis; on this shared machine they alone take seconds).
 */
async function startWithin(t: TestContext, env: Record<string, string>, what: string): Promise<ServiceProcess> {
  const started = performance.now();
  const svc = await startServiceProcess(t, env);
  const wallMs = performance.now() - started;
  const line = svc.output().split('\n').find((l) => l.includes('"msg":"sessiond listening on'));
  assert.ok(line, `${what}: a JSON start announcement:\n${svc.output()}`);
  const startMs = (JSON.parse(line) as { startMs: number }).startMs;
  t.diagnostic(`${what}: serving ${startMs} ms after the app build began (${wallMs.toFixed(0)} ms after the process was spawned)`);
  assert.ok(startMs < START_BOUND_MS, `${what}: ${startMs} ms to start`);
  return svc;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const refused = (svc: ServiceProcess, token: string) => async () => (await svc.http.get('/auth/me', { token })).status === 401;

/** /ready is 200 and reports Redis as not ok; the metric says 0. */
async function assertReadyWithoutRedis(svc: ServiceProcess, what: string) {
  const started = performance.now();
  const ready = await svc.http.get('/ready');
  const ms = performance.now() - started;
  assert.equal(ready.status, 200, `${what}: /ready ${ready.status} ${ready.text}`);
  assert.equal(ready.body.status, 'ready');
  assert.equal(ready.body.checks.database, 'ok');
  assert.match(ready.body.checks.redis, /^degraded/, `${what}: Redis reported: ${ready.body.checks.redis}`);
  assert.ok(ms < 3000, `${what}: /ready answered in ${ms.toFixed(0)} ms`);
  assert.match((await svc.http.get('/metrics')).text, /^sessiond_redis_up 0$/m);
}

/** Waits until /ready reports Redis ok again (the command connection is back). */
async function redisBack(svc: ServiceProcess, timeoutMs = 15_000): Promise<number> {
  return waitUntil(async () => {
    const ready = await svc.http.get('/ready');
    if (ready.body.checks?.redis === 'ok') return true;
    await sleep(100);
    return false;
  }, timeoutMs);
}

/**
 * A revocation on A reaches B by push: B has the session cached, the feed polls once a minute and
 * PostgreSQL NOTIFY is off, so only Redis pub/sub can make B refuse within a second.
 */
async function assertPushAToB(a: ServiceProcess, b: ServiceProcess, user: Awaited<ReturnType<typeof registerUser>>): Promise<number> {
  const victim = await login(a.http, user);
  assert.equal((await b.http.get('/auth/me', { token: victim.accessToken })).status, 200); // cached on B
  assert.equal((await a.http.delete(`/sessions/${victim.sessionId}`, { token: user.accessToken })).status, 200);
  const elapsed = await waitUntil(refused(b, victim.accessToken), 1000);
  assert.ok(elapsed >= 0, 'B refused the session revoked on A by push');
  return elapsed;
}

/** Sign-in, a session check and a revocation, on one instance. */
async function assertServes(svc: ServiceProcess, what: string) {
  const user = await registerUser(svc.http);
  const other = await login(svc.http, user);
  assert.equal((await svc.http.get('/auth/me', { token: other.accessToken })).status, 200, `${what}: check`);
  assert.equal((await svc.http.delete(`/sessions/${other.sessionId}`, { token: user.accessToken })).status, 200, `${what}: revoke`);
  assert.equal((await svc.http.get('/auth/me', { token: other.accessToken })).status, 401, `${what}: revoked session refused`);
  return user;
}

// Longer than the 60 s default, for the suite and its tests: service processes with Redis killed, hung and restarted.
describe('Redis faults (real processes, private redis-server)', { timeout: 300_000 }, () => {
  test('in process, without node and tsx start-up in the figure: buildApp + listen within 5 s with Redis unreachable and with Redis hung', async (t) => {
    const unreachable = `redis://127.0.0.1:${await freePort()}`;
    const hung = await startPrivateRedis(t);
    hung.pause();
    // The first app built in a process pays one-time costs (module initialisation, JIT); not Redis's.
    const warm = performance.now();
    await startApp(t, 'sqlite');
    t.diagnostic(`without Redis (first app of this process): serving after ${(performance.now() - warm).toFixed(0)} ms`);
    for (const [what, redisUrl] of [['unreachable', unreachable], ['hung (SIGSTOP)', hung.url]] as const) {
      const started = performance.now();
      const env = await startApp(t, 'sqlite', { config: { redisUrl } });
      const ms = performance.now() - started;
      assert.ok(env);
      t.diagnostic(`Redis ${what}: serving after ${ms.toFixed(0)} ms`);
      assert.ok(ms < START_BOUND_MS, `Redis ${what}: ${ms.toFixed(0)} ms to start`);
      const ready = await env.http.get('/ready');
      assert.equal(ready.status, 200, ready.text);
      assert.match(ready.body.checks.redis, /^degraded/);
      const user = await registerUser(env.http);
      assert.equal((await env.http.get('/auth/me', { token: user.accessToken })).status, 200);
    }
    hung.resume();
  });

  test('unreachable at start: both instances start within 5 s and serve; when Redis appears, push A -> B works', async (t) => {
    const env = await setup(t);
    const port = await freePort();
    const redis = await startPrivateRedis(t, { port, started: false }); // nothing listens yet
    const faultEnv = { ...env, REDIS_URL: redis.url, PG_NOTIFY: 'off', REVOCATION_POLL_INTERVAL_MS: '60000' };
    const a = await startWithin(t, faultEnv, 'Redis unreachable, A');
    const b = await startWithin(t, faultEnv, 'Redis unreachable, B');
    await assertReadyWithoutRedis(a, 'unreachable');
    const user = await assertServes(a, 'unreachable');

    await redis.start();
    for (const svc of [a, b]) assert.ok((await redisBack(svc)) >= 0, 'Redis reported ok again');
    await sleep(500); // the subscription follows the connection (and its gap re-sync clears the cache)
    const ms = await assertPushAToB(a, b, user);
    t.diagnostic(`after Redis appeared: revocation A -> B by push in ${ms.toFixed(1)} ms`);
    assert.match((await a.http.get('/metrics')).text, /^sessiond_redis_up 1$/m);
  });

  test('hung (SIGSTOP) at start and while running: starts within 5 s, /ready 200 reporting Redis, revocations still reach the other instance', async (t) => {
    const env = await setup(t);
    const redis = await startPrivateRedis(t);
    // A 300 ms poll: while Redis hangs, the database feed carries revocations within its bound.
    const redisEnv = { ...env, REDIS_URL: redis.url, PG_NOTIFY: 'off', REVOCATION_POLL_INTERVAL_MS: '300' };
    redis.pause();
    const a = await startWithin(t, redisEnv, 'Redis hung (SIGSTOP), A');
    await assertReadyWithoutRedis(a, 'hung at start');
    const user = await assertServes(a, 'hung at start');
    redis.resume();
    assert.ok((await redisBack(a)) >= 0, 'A uses Redis once it answers again');

    const b = await startWithin(t, redisEnv, 'Redis up, B');
    const victim = await login(a.http, user);
    assert.equal((await b.http.get('/auth/me', { token: victim.accessToken })).status, 200);
    redis.pause(); // hung while running
    for (const svc of [a, b]) await assertReadyWithoutRedis(svc, 'hung while running');
    assert.equal((await a.http.delete(`/sessions/${victim.sessionId}`, { token: user.accessToken })).status, 200);
    const elapsed = await waitUntil(refused(b, victim.accessToken), 3000);
    t.diagnostic(`Redis hung: revocation A -> B through the database feed in ${elapsed.toFixed(0)} ms (bound ${2 * 300 + 500 + 300} ms)`);
    assert.ok(elapsed >= 0, 'B refused the revoked session while Redis hung');
    assert.equal((await b.http.get('/auth/me', { token: user.accessToken })).status, 200, 'live sessions keep working');
    redis.resume();
    for (const svc of [a, b]) assert.ok((await redisBack(svc)) >= 0, 'Redis reported ok after SIGCONT');
  });

  test('killed while running, then back: /ready stays 200, the service serves, and push A -> B recovers', async (t) => {
    const env = await setup(t);
    const redis = await startPrivateRedis(t);
    const redisEnv = { ...env, REDIS_URL: redis.url, PG_NOTIFY: 'off', REVOCATION_POLL_INTERVAL_MS: '60000' };
    const a = await startServiceProcess(t, redisEnv);
    const b = await startServiceProcess(t, redisEnv);
    const user = await registerUser(a.http);
    const before = await assertPushAToB(a, b, user);
    t.diagnostic(`Redis up: push A -> B in ${before.toFixed(1)} ms`);

    await redis.stop(); // kill -9
    for (const svc of [a, b]) await assertReadyWithoutRedis(svc, 'killed');
    await assertServes(a, 'Redis dead');
    await assertServes(b, 'Redis dead');

    await redis.start();
    for (const svc of [a, b]) assert.ok((await redisBack(svc)) >= 0, 'Redis reported ok after the restart');
    await sleep(500);
    const after = await assertPushAToB(a, b, user);
    t.diagnostic(`Redis restarted: push A -> B in ${after.toFixed(1)} ms`);
  });
});
