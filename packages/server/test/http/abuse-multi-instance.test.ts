// test-tier: full (Redis, PostgreSQL, service processes)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createPostgresDatabase } from '../helpers/backends.ts';
import { registerUser } from '../helpers/http.ts';
import { startPrivateRedis, startServiceProcess } from '../helpers/processes.ts';

/**
 * Issue 12 items 1, 2, 5 and 6 across two real service processes sharing PostgreSQL, a private
 * Redis (the rate-limit counters) and the key file (the device cookies' key). Client addresses vary
 * through X-Forwarded-For from the trusted proxy 127.0.0.1. Never skipped: PostgreSQL and
 * redis-server are required.
 */
const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
const from = (address: string, more: Record<string, string> = {}) => ({ headers: { 'x-forwarded-for': address, ...more } });
const cookiePair = (res: { headers: Headers }, name: string) => res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))?.split(';')[0];

// Longer than the 60 s default: two service processes and a private Redis.
test('abuse limits hold across two instances sharing Redis', { timeout: 240_000 }, async (t) => {
  const { url, drop } = await createPostgresDatabase();
  t.after(drop);
  const redis = await startPrivateRedis(t);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-abuse-multi-'));
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const env = {
    DATABASE_URL: url, REDIS_URL: redis.url, DATA_DIR: dataDir, RATE_LIMIT: 'on', TRUST_PROXY: '127.0.0.1',
    RATE_LIMIT_PER_IP_PER_MINUTE: '5', LOGIN_FAILURES_BEFORE_DELAY: '5',
  };
  const a = await startServiceProcess(t, env);
  const b = await startServiceProcess(t, env);
  const both = [a.http, b.http];
  let next = 0;
  /** A fresh client address for each request (per-address limits are not what these steps test). */
  const fresh = () => `10.${Math.floor(next / 250) % 250}.${next++ % 250}.1`;

  await t.test('item 1: 30 concurrent wrong guesses over both instances: at most the allowed number are checked', async () => {
    const victim = await registerUser(a.http);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => both[i % 2]!.post('/auth/login', { email: victim.email, password: `wrong ${i}` }, from(fresh()))));
    const elapsedMs = performance.now() - started;
    const counts = tally(results.map((r) => r.status));
    // Five back to back; then the back-off lets one more through 1 s, 3 s, 7 s … after the first.
    let allowed = 5;
    for (let k = 1; (2 ** k - 1) * 1000 <= elapsedMs; k++) allowed++;
    // The documented degradation: when Redis does not answer within its command timeout (a loaded
    // machine can stall it), the breaker moves an instance's counting to its own memory, and the
    // bound then holds per instance. The service logs when that happens; the bound is chosen by it.
    const fellBack = [a, b].filter((svc) => svc.output().includes('rate-limit counters fall back to process memory')).length;
    t.diagnostic(`item 1 across instances: ${JSON.stringify(counts)} in ${elapsedMs.toFixed(0)} ms; instances that fell back to memory: ${fellBack}`);
    assert.ok(counts[401]! >= 5 && counts[401]! <= allowed * (1 + fellBack), JSON.stringify(counts));
    assert.equal(counts[401]! + counts[429]!, 30);
  });

  await t.test('item 2: account locked for unknown clients on both instances; the known device signs in on the other one', async () => {
    const reg = await a.http.post('/auth/register', { email: 'owner-multi@example.com', password: 'the owner password' }, from(fresh()));
    assert.equal(reg.status, 201);
    const device = cookiePair(reg, 'sessiond_device');
    assert.ok(device);
    const owner = { email: 'owner-multi@example.com', password: 'the owner password' };
    const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => both[i % 2]!.post('/auth/login', { email: owner.email, password: `wrong ${i}` }, from(fresh()))));
    assert.ok(tally(guesses.map((r) => r.status))[401]! <= 6);
    // Real time passes here (argon2 at full cost): guess on, each time when allowed, until the
    // back-off is long enough (8 s) for the checks below to run inside it.
    for (let i = 0; ; i++) {
      const guess = await both[i % 2]!.post('/auth/login', { email: owner.email, password: `again ${i}` }, from(fresh()));
      const wait = Number(guess.headers.get('retry-after') ?? 0);
      if (guess.status === 429 && wait >= 8) break;
      if (guess.status === 429) await new Promise((r) => setTimeout(r, wait * 1000));
      assert.ok(i < 20, 'the back-off grows');
    }
    for (const http of both) assert.equal((await http.post('/auth/login', owner, from(fresh()))).status, 429, 'unknown clients wait on both instances');
    const signedIn = await b.http.post('/auth/login', owner, from(fresh(), { cookie: device }));
    assert.equal(signedIn.status, 200, 'the device known from A signs in on B at once');
    const forged = `sessiond_device=${device.split('=')[1]!.split('.')[0]}.${'A'.repeat(43)}`;
    assert.equal((await a.http.post('/auth/login', owner, from(fresh(), { cookie: forged }))).status, 429, 'a forged device cookie does not bypass');
  });

  await t.test('item 5: forged refresh tokens sent to A do not spend the session budget the owner uses on B', async () => {
    const owner = await registerUser(a.http);
    const forged = (i: number) => `${owner.sessionId}.0.${String(i).padStart(42, 'A')}A`;
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => a.http.post('/auth/refresh', { refreshToken: forged(i) }, from(fresh()))));
    assert.deepEqual(tally(results.map((r) => r.status)), { 401: 60 });
    assert.equal((await b.http.post('/auth/refresh', { refreshToken: owner.refreshToken }, from(fresh()))).status, 200);
  });

  await t.test('item 6: one /64 and one address however spelled share one budget across instances', async () => {
    const statuses: number[] = [];
    const addresses = ['2001:db8:77:1::1', '2001:db8:77:1:ffff::2', '2001:DB8:77:1::3', '2001:db8:77:1:0:0:0:4', '2001:db8:77:1::5', '2001:db8:77:1::6'];
    for (const [i, address] of addresses.entries()) statuses.push((await both[i % 2]!.post('/auth/login', { email: `nobody-64-${i}@example.com`, password: 'whatever password' }, from(address))).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    const spellings = ['203.0.113.77', '::ffff:203.0.113.77', '::FFFF:CB00:714D', '0:0:0:0:0:ffff:203.0.113.77', '203.0.113.77', '::ffff:203.0.113.77'];
    const spelled: number[] = [];
    for (const [i, address] of spellings.entries()) spelled.push((await both[i % 2]!.post('/auth/login', { email: `nobody-v4-${i}@example.com`, password: 'whatever password' }, from(address))).status);
    assert.deepEqual(spelled, [401, 401, 401, 401, 401, 429]);
  });
});
