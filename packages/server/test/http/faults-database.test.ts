// test-tier: full (PostgreSQL, a private cluster stopped and started)
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { defaultConfig, type AppConfig } from '../../src/config.ts';
import { generateKeyMaterial } from '../../src/tokens/key-store.ts';
import { testConfig } from '../helpers/app.ts';
import { HttpClient, login, registerUser } from '../helpers/http.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { startServiceProcess, waitUntil } from '../helpers/processes.ts';

/**
 * Database faults injected for real into one private PostgreSQL cluster (never the machine's
 * server): a revocation that commits late, a row lock held across a revocation, the whole cluster
 * stopped (SIGSTOP: what a network black hole looks like) under mixed load, and webhook delivery
 * after kill -9. Redis off and PG_NOTIFY=off where a push channel could hide what the feed does.
 * Never skipped: a missing PostgreSQL fails the test.
 */

const POLL_MS = 200;
/** The README's poll bound: 2 x REVOCATION_POLL_INTERVAL_MS + 0.5 s. */
const POLL_BOUND_MS = 2 * POLL_MS + 500;
/** Timer and scheduling slack on a loaded 2-core machine shared with other test runs; reported, never silent. */
const SLACK_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh database in the private cluster, for one scenario. */
async function freshDatabase(cluster: PrivatePostgres): Promise<string> {
  const name = `sessiond_f_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return url.toString();
}

type Instance = { http: HttpClient; app: Awaited<ReturnType<typeof buildApp>> };

async function instance(t: TestContext, config: Partial<AppConfig>, keys: ReturnType<typeof generateKeyMaterial>): Promise<Instance> {
  const app = await buildApp(testConfig({ revocationPollIntervalMs: POLL_MS, pgNotify: false, redisUrl: undefined, ...config }), { keys });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return { app, http: new HttpClient(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`) };
}

async function client(t: TestContext, url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  t.after(() => c.end().catch(() => {}));
  return c;
}

/** A webhook receiver on loopback that records the event ids it gets, with arrival times. */
async function receiver(t: TestContext) {
  const received: Array<{ sessionId: string; atMs: number }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ sessionId: JSON.parse(body).sessionId, atMs: performance.now() });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received };
}

/** Whether the receiver got the session's event; after a short sleep, so a polling loop lets the event loop run. */
async function received(hooks: { received: Array<{ sessionId: string }> }, sessionId: string): Promise<boolean> {
  await sleep(10);
  return hooks.received.some((r) => r.sessionId === sessionId);
}

/**
 * Two instances A and B on a fresh database of the cluster (push channels off: only the feed), a user
 * signed in on A, and a second session of theirs (the victim) that B has checked, so B has it cached.
 */
async function twoInstancesWithVictim(t: TestContext, cluster: PrivatePostgres) {
  const url = await freshDatabase(cluster);
  const keys = generateKeyMaterial(Date.now());
  const a = await instance(t, { databaseUrl: url }, keys);
  const b = await instance(t, { databaseUrl: url }, keys);
  const user = await registerUser(a.http);
  const victim = await login(a.http, user);
  assert.equal((await b.http.get('/auth/me', { token: victim.accessToken })).status, 200, 'B has it cached');
  return { url, a, b, user, victim };
}

const SECRET = 'whk-fault-secret-0123456789-abcdefghij';

// Longer than the 60 s default: a private cluster stopped, frozen and restarted, with waits for each recovery.
test('database faults on a private PostgreSQL cluster', { timeout: 240_000 }, async (t) => {
  const cluster = await startPrivatePostgres(t);

  await t.test('a revocation that commits 8 s after its stamp is refused by the other instance within the poll bound (no push channel)', async (t) => {
    const { url, a, b, user, victim } = await twoInstancesWithVictim(t, cluster);

    // The revoking transaction of another writer, stamped now and committed 8 s later (a commit
    // waiting on a slow disk or a synchronous standby: no timeout of ours can cut that short).
    const writer = await client(t, url);
    const stampedAtMs = Date.now();
    await writer.query('begin');
    await writer.query(`update sessions set revoked_at = $1, revoke_reason = 'admin' where id = $2`, [stampedAtMs, victim.sessionId]);
    await writer.query(`insert into session_events (type, session_id, user_id, reason, occurred_at) values ('session.revoked', $1, $2, 'admin', $3)`, [victim.sessionId, user.userId, stampedAtMs]);
    // Meanwhile other revocations commit and the feed moves on.
    for (let i = 0; i < 3; i++) {
      const other = await login(a.http, user);
      assert.equal((await a.http.delete(`/sessions/${other.sessionId}`, { token: user.accessToken })).status, 200);
      await sleep(2500);
    }
    assert.equal((await b.http.get('/auth/me', { token: victim.accessToken })).status, 200, 'not committed yet: still valid');
    await writer.query('commit');
    const lateMs = Date.now() - stampedAtMs;
    const elapsed = await waitUntil(async () => (await b.http.get('/auth/me', { token: victim.accessToken })).status === 401, 5000);
    t.diagnostic(`committed ${lateMs} ms after its stamp; refused on B ${elapsed.toFixed(0)} ms after the commit (bound ${POLL_BOUND_MS} ms)`);
    assert.ok(elapsed >= 0, 'B refuses the late revocation');
    assert.ok(elapsed <= POLL_BOUND_MS + SLACK_MS, `within the poll bound: ${elapsed.toFixed(0)} ms`);
    for (let i = 0; i < 3; i++) assert.equal((await b.http.get('/auth/me', { token: victim.accessToken })).status, 401);
  });

  await t.test('a revoke queued 8 s behind a row lock answers 503 fast instead of being acknowledged late; retried after, it is refused everywhere within the poll bound', async (t) => {
    const { url, a, b, user, victim } = await twoInstancesWithVictim(t, cluster);

    const locker = await client(t, url);
    await locker.query('begin');
    await locker.query('select 1 from sessions where id = $1 for update', [victim.sessionId]);
    // Released after 8 s whatever happens meanwhile (a revoke that waits for it must not wait forever).
    const released = sleep(8000).then(() => locker.query('commit'));
    const started = performance.now();
    const during = await a.http.delete(`/sessions/${victim.sessionId}`, { token: user.accessToken });
    const answeredMs = performance.now() - started;
    t.diagnostic(`revoke behind the lock: ${during.status} after ${answeredMs.toFixed(0)} ms`);
    assert.equal(during.status, 503, `not acknowledged late: ${during.status} ${during.text}`);
    assert.equal(during.headers.get('retry-after'), '1');
    assert.equal(during.body.type, 'urn:sessiond:problem:service-unavailable');
    assert.ok(answeredMs < 2000, `answered within 2 s (${answeredMs.toFixed(0)} ms)`);
    await released;
    const row = await locker.query('select revoked_at from sessions where id = $1', [victim.sessionId]);
    assert.equal(row.rows[0].revoked_at, null, 'a 503 changed nothing');

    const retried = await a.http.delete(`/sessions/${victim.sessionId}`, { token: user.accessToken });
    assert.equal(retried.status, 200);
    const acknowledgedAt = performance.now();
    const elapsed = await waitUntil(async () => (await b.http.get('/auth/me', { token: victim.accessToken })).status === 401, 5000);
    t.diagnostic(`refused on B ${elapsed.toFixed(0)} ms after A acknowledged (bound ${POLL_BOUND_MS} ms)`);
    assert.ok(elapsed >= 0 && elapsed <= POLL_BOUND_MS + SLACK_MS, `within the poll bound: ${elapsed.toFixed(0)} ms`);
    assert.ok(performance.now() - acknowledgedAt < 10_000);
  });

  await t.test('a webhook event whose transaction commits after later events is delivered, not skipped', async (t) => {
    const url = await freshDatabase(cluster);
    const hooks = await receiver(t);
    const a = await instance(t, { databaseUrl: url, webhooks: { ...defaultConfig.webhooks, urls: [hooks.url], secret: SECRET, pollIntervalMs: 100 } }, generateKeyMaterial(Date.now()));
    const writer = await client(t, url);
    await writer.query('begin');
    await writer.query(`insert into session_events (type, session_id, user_id, reason, occurred_at) values ('session.created', 'late-commit', 'u', null, $1)`, [Date.now()]);
    const early = await registerUser(a.http); // a higher id, committed first
    assert.ok((await waitUntil(() => received(hooks, early.sessionId), 5000)) >= 0, 'the committed event is delivered meanwhile');
    await sleep(3000); // longer than the settling delay the deliverer used to rely on (2 s)
    await writer.query('commit');
    const committedAt = performance.now();
    const elapsed = await waitUntil(() => received(hooks, 'late-commit'), 5000);
    t.diagnostic(`late-committed event delivered ${elapsed.toFixed(0)} ms after its commit`);
    assert.ok(elapsed >= 0, 'delivered');
    assert.deepEqual(hooks.received.map((r) => r.sessionId), [early.sessionId, 'late-commit'], 'each once');
    assert.ok(performance.now() - committedAt < 5000);
  });

  await t.test('PostgreSQL stopped (SIGSTOP, every process of the cluster) under mixed load: every answer within 2 s, 503 or success; all good after SIGCONT; no acknowledged write lost', async (t) => {
    const url = await freshDatabase(cluster);
    const a = await instance(t, { databaseUrl: url, revocationPollIntervalMs: 1000 }, generateKeyMaterial(Date.now()));
    const user = await registerUser(a.http);
    const revokedBefore = await login(a.http, user);
    assert.equal((await a.http.delete(`/sessions/${revokedBefore.sessionId}`, { token: user.accessToken })).status, 200);
    const signedIn: string[] = [];
    const revoked: string[] = [revokedBefore.sessionId];
    const answers: Array<{ op: string; status: number; ms: number }> = [];
    let running = true;
    const loop = (op: string, fn: () => Promise<number>) =>
      (async () => {
        while (running) {
          const started = performance.now();
          let status: number;
          try {
            status = await fn();
          } catch {
            status = -1; // a dropped connection
          }
          answers.push({ op, status, ms: performance.now() - started });
          await sleep(20);
        }
      })();
    const loops = [
      loop('sign-in', async () => {
        const res = await a.http.post('/auth/login', { email: user.email, password: user.password });
        if (res.status === 200) signedIn.push(res.body.sessionId);
        return res.status;
      }),
      loop('list', async () => (await a.http.get('/sessions?page=1&limit=20', { token: user.accessToken })).status),
      loop('list (fast path)', async () => (await a.http.get('/sessions', { token: user.accessToken })).status),
      loop('check', async () => (await a.http.get('/auth/me', { token: user.accessToken })).status),
      loop('revoked check', async () => (await a.http.get('/auth/me', { token: revokedBefore.accessToken })).status),
      loop('revoke', async () => {
        const id = signedIn.shift();
        if (!id) return 200;
        const res = await a.http.delete(`/sessions/${id}`, { token: user.accessToken });
        if (res.status === 200) revoked.push(id);
        else if (res.status === 503) signedIn.push(id);
        return res.status;
      }),
    ];
    await sleep(1000);
    const pids = cluster.pids();
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    const stoppedAt = answers.length;
    let continued = false;
    const resume = () => {
      if (continued) return;
      continued = true;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // gone
        }
      }
    };
    t.after(resume); // never leave the cluster stopped, even when an assertion fails
    await sleep(6000);
    const duringStop = answers.slice(stoppedAt);
    resume();
    const resumedAt = performance.now();
    const recoveredMs = await waitUntil(async () => (await a.http.get('/sessions?page=1&limit=20', { token: user.accessToken })).status === 200, 10_000);
    await sleep(1500);
    running = false;
    await Promise.all(loops);

    const byOp: Record<string, Record<number, number>> = {};
    for (const x of answers) ((byOp[x.op] ??= {})[x.status] = (byOp[x.op]![x.status] ?? 0) + 1);
    const slowest = Math.max(...answers.map((x) => x.ms));
    t.diagnostic(`${pids.length} processes stopped for 6 s; answers ${JSON.stringify(byOp)}; slowest ${slowest.toFixed(0)} ms; recovered ${recoveredMs.toFixed(0)} ms after SIGCONT`);
    assert.ok(duringStop.some((x) => x.status === 503), 'the stop was felt');
    for (const x of answers) {
      const allowed = x.op === 'revoked check' ? [401, 503] : [200, 503];
      assert.ok(allowed.includes(x.status), `${x.op}: ${x.status}`);
      assert.ok(x.ms < 2000 + SLACK_MS, `${x.op} answered in ${x.ms.toFixed(0)} ms`);
    }
    assert.ok(recoveredMs >= 0, 'recovered without a restart');
    // Once recovered, everything succeeds again.
    assert.equal((await a.http.post('/auth/login', { email: user.email, password: user.password })).status, 200);
    assert.equal((await a.http.get('/sessions', { token: user.accessToken })).status, 200);
    assert.equal((await a.http.get('/auth/me', { token: user.accessToken })).status, 200);
    assert.ok(performance.now() - resumedAt < 30_000);
    // Every acknowledged write is there.
    const db = await client(t, url);
    const rows = (await db.query('select id, revoked_at from sessions')).rows as Array<{ id: string; revoked_at: string | null }>;
    const state = new Map(rows.map((r) => [r.id, r.revoked_at]));
    for (const id of signedIn) assert.ok(state.has(id), `acknowledged sign-in ${id} present`);
    for (const id of revoked) assert.ok(state.get(id) != null, `acknowledged revocation ${id} present`);
    t.diagnostic(`${signedIn.length + revoked.length} acknowledged sign-ins and ${revoked.length} revocations all present`);
  });

  await t.test('webhook delivery resumes within 5 s after the delivering process is killed (kill -9): another instance takes over, or the same one restarted', async (t) => {
    const url = await freshDatabase(cluster);
    const hooks = await receiver(t);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-webhook-kill-'));
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const env = { DATABASE_URL: url, DATA_DIR: dataDir, PG_NOTIFY: 'off', WEBHOOK_URLS: hooks.url, WEBHOOK_SECRET: SECRET };
    const one = await startServiceProcess(t, env);
    const two = await startServiceProcess(t, env);
    const db = await client(t, url);
    const user = await registerUser(one.http);
    assert.ok((await waitUntil(() => received(hooks, user.sessionId), 5000)) >= 0, 'delivered');
    const holderPid = async () => Number(String((await db.query('select lease_owner from webhook_cursors')).rows[0]?.lease_owner ?? '').split('-')[0]);
    const holder = (await holderPid()) === one.child.pid ? one : two;
    const survivor = holder === one ? two : one;
    assert.equal(await holderPid(), holder.child.pid);

    holder.child.kill('SIGKILL');
    const killedAt = performance.now();
    const next = await login(survivor.http, user);
    const takeover = await waitUntil(() => received(hooks, next.sessionId), 10_000);
    const takeoverMs = takeover < 0 ? -1 : performance.now() - killedAt;
    t.diagnostic(`another instance took over: next event delivered ${takeoverMs.toFixed(0)} ms after kill -9`);
    assert.ok(takeover >= 0 && takeoverMs <= 5000, `resumed within 5 s (${takeoverMs.toFixed(0)} ms)`);
    assert.equal(await holderPid(), survivor.child.pid);

    // The only instance dies and the same one is restarted at once.
    survivor.child.kill('SIGKILL');
    const killedAgainAt = performance.now();
    const restarted = await startServiceProcess(t, env);
    const restartMs = performance.now() - killedAgainAt;
    const third = await login(restarted.http, user);
    const resumed = await waitUntil(() => received(hooks, third.sessionId), 10_000);
    const resumedMs = resumed < 0 ? -1 : performance.now() - killedAgainAt;
    t.diagnostic(`same instance restarted (${restartMs.toFixed(0)} ms to listen): next event delivered ${resumedMs.toFixed(0)} ms after kill -9`);
    // The promise is 5 s from the death; a restart that alone takes longer than the lease cannot
    // be blamed on delivery: then the bound is one poll and a round after it listens.
    assert.ok(resumed >= 0 && resumedMs <= Math.max(5000, restartMs + 1500), `resumed within 5 s (${resumedMs.toFixed(0)} ms)`);
    const ids = hooks.received.map((r) => r.sessionId);
    for (const id of [user.sessionId, next.sessionId, third.sessionId]) assert.ok(ids.includes(id), 'nothing lost');
  });
});
