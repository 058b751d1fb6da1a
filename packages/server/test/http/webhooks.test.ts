// test-tier: full (slow: 21 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { ConfigError, defaultConfig, loadConfig, type AppConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/database/database.ts';
import { appendEvents } from '../../src/events/kysely-event-store.ts';
import type { WebhookDeliverer } from '../../src/events/webhook-deliverer.ts';
import { generateKeyMaterial } from '../../src/tokens/key-store.ts';
import { startApp, testConfig } from '../helpers/app.ts';
import { backendNames, openBackend, type BackendName } from '../helpers/backends.ts';
import { TestClock } from '../helpers/clock.ts';
import { captureLogs } from '../helpers/logs.ts';
import { HttpClient, login, registerUser } from '../helpers/http.ts';
import { DeviceKey } from '../helpers/dpop.ts';

const SECRET = 'whk-test-secret-0123456789-abcdefghij';

/**
 * The receiver's check, written from the Standard Webhooks rule and independent of the service's
 * code: HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<raw body>"), base64, compared in
 * constant time with each "v1,<sig>" in webhook-signature. (The README shows the same snippet.)
 */
function verify(secret: string, headers: http.IncomingHttpHeaders, rawBody: string): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  const expected = crypto.createHmac('sha256', secret).update(`${id}.${timestamp}.${rawBody}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    const given = Buffer.from(signature ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}

type Answer = number | { status: number; delayMs: number } | 'hang';

/** A real webhook receiver on loopback: records every request and answers as `answer` says. */
class Receiver {
  readonly requests: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  answer: (index: number) => Answer = () => 204;
  port = 0;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const index = this.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }) - 1;
      const answer = this.answer(index);
      if (answer === 'hang') return; // never answers: the deliverer's timeout has to give up
      const { status, delayMs } = typeof answer === 'number' ? { status: answer, delayMs: 0 } : answer;
      setTimeout(() => res.writeHead(status).end('ok'), delayMs);
    });
  });

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/sessiond`;
  }
  /** Parsed bodies, in arrival order. */
  get events(): any[] {
    return this.requests.map((r) => JSON.parse(r.body));
  }
  /** Listens (again, on the same port after close()). */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }
  /** Port closed: connections are refused until listen(). */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function startReceiver(t: TestContext): Promise<Receiver> {
  const receiver = new Receiver();
  await receiver.listen();
  t.after(() => receiver.close());
  return receiver;
}

const webhookConfig = (urls: string[], overrides: Partial<AppConfig['webhooks']> = {}): Partial<AppConfig> => ({
  webhooks: { ...defaultConfig.webhooks, urls, secret: SECRET, pollIntervalMs: 0, timeoutMs: 1000, ...overrides },
});

const deliverer = (app: FastifyInstance): WebhookDeliverer => {
  assert.ok(app.sessiond.webhooks, 'webhooks are configured');
  return app.sessiond.webhooks;
};

const cursorOf = (app: FastifyInstance, url: string) =>
  app.sessiond.database.db.selectFrom('webhook_cursors').selectAll().where('endpoint', '=', url).executeTakeFirstOrThrow();

const eventIds = async (app: FastifyInstance) =>
  (await app.sessiond.database.db.selectFrom('session_events').select('id').orderBy('id').execute()).map((r) => Number(r.id));

/** Real-network waits only: bounded and short. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Instance {
  app: FastifyInstance;
  http: HttpClient;
  webhooks: WebhookDeliverer;
}

/**
 * One receiver, one database and one clock for several instances of the service: instance() starts
 * another one on the same database (a second machine, or the same one after a restart), on
 * PostgreSQL with its own connection pool. In-memory SQLite exists once per connection: there the
 * instances share it.
 */
async function sharedDeployment(t: TestContext, backend: BackendName) {
  const receiver = await startReceiver(t);
  const opened = await openBackend(t, backend);
  if (!opened) return undefined;
  const clock = new TestClock();
  const keys = generateKeyMaterial(clock.now());
  let instances = 0;
  const instance = async (): Promise<Instance> => {
    let database = opened.handle;
    if (instances++ > 0 && opened.url) {
      const own = openDatabase({ databaseUrl: opened.url, poolSize: 3 });
      t.after(() => own.close());
      database = own;
    }
    const app = await buildApp(testConfig(webhookConfig([receiver.url])), { database, keys, clock });
    await app.listen({ host: '127.0.0.1', port: 0 });
    t.after(() => app.close());
    return { app, http: new HttpClient(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`), webhooks: deliverer(app) };
  };
  return { receiver, clock, instance };
}

for (const backend of backendNames) {
  describe(`webhooks (${backend})`, () => {
    test('every event type arrives once, in id order, signed; a tampered body fails verification', async (t) => {
      const receiver = await startReceiver(t);
      const env = await startApp(t, backend, { config: { ...webhookConfig([receiver.url]), sessionIdleTimeoutSeconds: 3600 } });
      if (!env) return;
      const { http, clock, app } = env;
      const webhooks = deliverer(app);

      const registeredAtMs = clock.now();
      const a = await registerUser(http); // session.created
      const atOnce = await webhooks.tick();
      assert.equal(atOnce[0]!.delivered, 1, 'delivered at once: no settling delay');
      assert.equal(receiver.requests.length, 1);

      const refreshed = await http.post('/auth/refresh', { refreshToken: a.refreshToken }); // session.refreshed
      assert.equal(refreshed.status, 200);
      clock.advanceSeconds(11); // past the 10 s reuse grace
      const reuse = await http.post('/auth/refresh', { refreshToken: a.refreshToken }); // refresh_token.reused + session.revoked
      assert.equal(reuse.status, 401);

      const b = await registerUser(http);
      const bPhone = await login(http, b);
      assert.equal((await http.delete(`/sessions/${bPhone.sessionId}`, { token: b.accessToken })).status, 200); // session.revoked
      const c = await registerUser(http);
      // A key-bound session's refresh token presented without a proof by its key: refresh_token.unbound_use.
      const key = await DeviceKey.generate(() => clock.now());
      const d = await http.post('/auth/register', { email: `bound-${backend}@example.com`, password: 'correct horse battery staple' }, {
        headers: { dpop: await key.proof({ htm: 'POST', htu: `${env.url}/auth/register` }) },
      });
      assert.equal(d.status, 201, d.text);
      assert.equal((await http.post('/auth/refresh', { refreshToken: d.body.refreshToken })).status, 401);
      clock.advanceSeconds(3601);
      await app.sessiond.sessions.sweep({ retentionMs: 365 * 86_400_000, batchSize: 100, maxBatches: 10 }); // session.expired

      const rounds = await webhooks.tick();
      assert.equal(rounds[0]!.failure, undefined);
      const stored = await eventIds(app);
      assert.equal(1 + rounds[0]!.delivered, stored.length);
      const events = receiver.events;
      assert.deepEqual(events.map((e) => e.id), stored, 'every event, once, in id order');

      const find = (type: string, sessionId: string) => events.find((e) => e.type === type && e.sessionId === sessionId);
      const created = find('session.created', a.sessionId);
      assert.deepEqual(Object.keys(created).sort(), ['data', 'id', 'occurredAt', 'reason', 'sessionId', 'type', 'userId']);
      assert.equal(created.userId, a.userId);
      assert.equal(created.occurredAt, new Date(registeredAtMs).toISOString());
      assert.equal(created.reason, null);
      assert.equal(created.data.ipAddress, '127.0.0.1');
      assert.equal(find('session.refreshed', a.sessionId).data.generation, 1);
      const reused = find('refresh_token.reused', a.sessionId);
      const revokedA = find('session.revoked', a.sessionId);
      assert.equal(revokedA.reason, 'refresh_token_reused');
      assert.ok(reused.id < revokedA.id);
      assert.equal(find('session.revoked', bPhone.sessionId).reason, 'user_revoked');
      assert.equal(find('session.expired', c.sessionId).reason, 'idle_timeout');
      assert.equal(find('session.expired', b.sessionId).reason, 'idle_timeout');
      const unbound = find('refresh_token.unbound_use', d.body.sessionId);
      assert.deepEqual({ userId: unbound.userId, proof: unbound.data.proof, generation: unbound.data.generation }, { userId: d.body.user.id, proof: 'missing', generation: 0 });

      for (const request of receiver.requests) {
        assert.equal(request.headers['content-type'], 'application/json');
        assert.equal(request.headers['webhook-id'], String(JSON.parse(request.body).id));
        assert.ok([registeredAtMs, clock.now()].map((ms) => String(Math.floor(ms / 1000))).includes(String(request.headers['webhook-timestamp'])), 'signed at the attempt, by the injected clock');
        assert.match(String(request.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]{43}=$/);
        assert.ok(verify(SECRET, request.headers, request.body), 'the signature verifies');
      }
      const first = receiver.requests[0]!;
      assert.equal(verify(SECRET, first.headers, first.body.replace('session.created', 'session.revoked')), false, 'a tampered body fails');
      assert.equal(verify(SECRET, { ...first.headers, 'webhook-id': '999999' }, first.body), false, 'another id fails');
      assert.equal(verify(`${SECRET}x`, first.headers, first.body), false, 'another secret fails');

      assert.equal((await cursorOf(app, receiver.url)).last_event_id, stored.at(-1));
      assert.equal(webhooks.lagMs, 0);
      assert.equal(webhooks.deliveredTotal, stored.length);
      assert.equal((await webhooks.tick())[0]!.delivered, 0, 'nothing is delivered twice');
    });

    test('in the running service the background timer delivers, with no tick() from outside', async (t) => {
      const receiver = await startReceiver(t);
      const env = await startApp(t, backend, { config: webhookConfig([receiver.url], { pollIntervalMs: 50 }) });
      if (!env) return;
      await registerUser(env.http);
      await waitFor(() => receiver.requests.length === 1, 'the timer to deliver');
      assert.ok(verify(SECRET, receiver.requests[0]!.headers, receiver.requests[0]!.body));
    });

    test('a password change and an account deletion reach the receiver: session.revoked, reasons password_changed and account_deleted', async (t) => {
      const receiver = await startReceiver(t);
      const env = await startApp(t, backend, { config: webhookConfig([receiver.url]) });
      if (!env) return;
      const { http, app } = env;
      const laptop = await registerUser(http);
      const phone = await login(http, laptop);
      const changed = await http.post('/auth/password', { currentPassword: laptop.password, newPassword: 'a new long passphrase' }, { token: laptop.accessToken });
      assert.equal(changed.status, 200, changed.text);
      const deleted = await http.request('DELETE', '/auth/me', { token: laptop.accessToken, body: { password: 'a new long passphrase' } });
      assert.equal(deleted.status, 204, deleted.text);
      await deliverer(app).tick();
      const revoked = receiver.events.filter((e) => e.type === 'session.revoked').map((e) => [e.sessionId, e.userId, e.reason]);
      assert.deepEqual(revoked, [[phone.sessionId, laptop.userId, 'password_changed'], [laptop.sessionId, laptop.userId, 'account_deleted']]);
      for (const r of receiver.requests) assert.ok(verify(SECRET, r.headers, r.body), 'signed');
    });

    test('a receiver answering 500 then 200 gets the event again, and the cursor does not skip', async (t) => {
      const receiver = await startReceiver(t);
      receiver.answer = (i) => (i === 0 ? 500 : 200);
      const env = await startApp(t, backend, { config: webhookConfig([receiver.url]) });
      if (!env) return;
      const { http, clock, app } = env;
      const webhooks = deliverer(app);
      await registerUser(http);
      await registerUser(http);
      const [firstId, secondId] = await eventIds(app);
      const firstOccurredAtMs = clock.now();

      const failed = await webhooks.tick();
      assert.equal(failed[0]!.failure, 'HTTP 500');
      assert.equal(failed[0]!.delivered, 0);
      const cursor = await cursorOf(app, receiver.url);
      assert.equal(cursor.last_event_id, 0, 'a failed event is not passed over');
      assert.equal(cursor.attempts, 1);
      assert.equal(cursor.last_error, 'HTTP 500');
      assert.equal(webhooks.failuresTotal, 1);
      assert.equal(webhooks.lagMs, clock.now() - firstOccurredAtMs, 'lag: age of the oldest unacknowledged event');
      assert.equal(webhooks.endpointMetrics()[0]!.endpoint, receiver.url);

      await webhooks.tick();
      assert.equal(receiver.requests.length, 1, 'no attempt before the backoff has passed');
      clock.advance(1000);
      const retried = await webhooks.tick();
      assert.equal(retried[0]!.delivered, 2);
      assert.deepEqual(receiver.events.map((e) => e.id), [firstId, firstId, secondId], 'at least once: the failed event again, then the next');
      assert.equal(receiver.requests[0]!.headers['webhook-id'], receiver.requests[1]!.headers['webhook-id'], 'the same webhook-id, for deduplication');
      const after = await cursorOf(app, receiver.url);
      assert.equal(after.last_event_id, secondId);
      assert.equal(after.attempts, 0);
      assert.equal(after.last_error, null);
      assert.equal(webhooks.lagMs, 0);
    });

    test('backoff doubles from 1 s with jitter, is capped at 5 min, and failures are logged without secrets', async (t) => {
      const logs = captureLogs();
      const receiver = await startReceiver(t);
      receiver.answer = () => 503;
      const env = await startApp(t, backend, { config: webhookConfig([receiver.url]), deps: { logger: { level: 'warn', stream: logs.stream } } });
      if (!env) return;
      const { http, clock, app } = env;
      const webhooks = deliverer(app);
      await registerUser(http);

      const delays: number[] = [];
      for (let attempt = 1; attempt <= 12; attempt++) {
        const round = await webhooks.tick();
        assert.equal(round[0]!.failure, 'HTTP 503');
        assert.equal(receiver.requests.length, attempt);
        const delay = (await cursorOf(app, receiver.url)).next_attempt_at - clock.now();
        delays.push(delay);
        const full = Math.min(1000 * 2 ** (attempt - 1), 300_000);
        assert.ok(delay <= full && delay >= full * 0.8, `attempt ${attempt}: ${delay} ms within [0.8, 1] x ${full} ms`);
        clock.advance(delay - 1);
        await webhooks.tick();
        assert.equal(receiver.requests.length, attempt, 'no attempt before the wait is over');
        clock.advance(1);
      }
      for (let i = 1; i < 9; i++) assert.ok(delays[i]! > delays[i - 1]!, 'the waits grow');
      assert.equal(webhooks.failuresTotal, 12);
      assert.equal((await cursorOf(app, receiver.url)).attempts, 12);

      const failures = logs.text().split('\n').filter((l) => l.includes('webhook delivery failed'));
      assert.equal(failures.length, 12);
      const entry = JSON.parse(failures[0]!);
      assert.equal(entry.endpoint, receiver.url);
      assert.equal(entry.error, 'HTTP 503');
      const log = logs.text();
      const signature = String(receiver.requests.at(-1)!.headers['webhook-signature']).slice(3);
      assert.ok(!log.includes(SECRET), 'the secret is not logged');
      assert.ok(!log.includes(signature), 'no signature is logged');
      assert.ok(!log.includes('webhook-signature'), 'no headers are logged');
    });

    test('a receiver that is down, then back, gets everything in order', async (t) => {
      const receiver = await startReceiver(t);
      await receiver.close(); // the port is now refused
      const env = await startApp(t, backend, { config: webhookConfig([receiver.url]) });
      if (!env) return;
      const { http, clock, app } = env;
      const webhooks = deliverer(app);
      const a = await registerUser(http);
      await http.post('/auth/refresh', { refreshToken: a.refreshToken });
      await registerUser(http);

      assert.equal((await webhooks.tick())[0]!.failure, 'ECONNREFUSED');
      clock.advance(1000);
      assert.equal((await webhooks.tick())[0]!.failure, 'ECONNREFUSED');
      await registerUser(http); // more events while the receiver is down

      await receiver.listen();
      clock.advance(2000); // covers the 2 s backoff
      const round = await webhooks.tick();
      assert.equal(round[0]!.failure, undefined);
      assert.deepEqual(receiver.events.map((e) => e.id), await eventIds(app), 'everything, once, in order');
    });

    test('a receiver that never answers is abandoned after the timeout; requests are served meanwhile', async (t) => {
      const receiver = await startReceiver(t);
      receiver.answer = (i) => (i === 0 ? 'hang' : 200);
      const env = await startApp(t, backend, { config: webhookConfig([receiver.url], { timeoutMs: 300 }) });
      if (!env) return;
      const { http, clock, app } = env;
      const webhooks = deliverer(app);
      await registerUser(http);

      let finished = false;
      const round = webhooks.tick().finally(() => {
        finished = true;
      });
      await waitFor(() => receiver.requests.length === 1, 'the first attempt');
      assert.equal((await http.get('/health')).status, 200, 'the service answers while a delivery hangs');
      assert.equal(finished, false);
      const [result] = await round;
      assert.equal(result!.failure, 'timeout after 300 ms');
      clock.advance(1000);
      assert.equal((await webhooks.tick())[0]!.delivered, 1);
      assert.equal(receiver.requests.length, 2);
    });

    test('an event is delivered at once whatever its stamp: old, or from a clock ahead (no settling delay)', async (t) => {
      const receiver = await startReceiver(t);
      const env = await startApp(t, backend, { config: webhookConfig([receiver.url]) });
      if (!env) return;
      const { clock, app } = env;
      const db = app.sessiond.database.db;
      const event = (sessionId: string, occurredAtMs: number) => ({ type: 'session.created' as const, sessionId, userId: 'u', reason: null, occurredAtMs });
      await appendEvents(db, [event('s1', clock.now() + 60_000)]); // an instance whose clock is a minute ahead
      await appendEvents(db, [event('s2', clock.now() - 3_600_000)]); // a commit an hour after its stamp
      assert.equal((await deliverer(app).tick())[0]!.delivered, 2);
      assert.deepEqual(receiver.events.map((e) => e.sessionId), ['s1', 's2']);
    });

    if (backend === 'postgres') {
      test('a lower id that commits after a higher one is still delivered, once it commits (PostgreSQL sequences)', async (t) => {
        const receiver = await startReceiver(t);
        const env = await startApp(t, backend, { config: webhookConfig([receiver.url]) });
        if (!env) return;
        const { clock, app } = env;
        const db = app.sessiond.database.db;
        const event = (sessionId: string) => ({ type: 'session.created' as const, sessionId, userId: 'u', reason: null, occurredAtMs: clock.now() });
        let commit!: () => void;
        const held = new Promise<void>((resolve) => (commit = resolve));
        let inserted!: () => void;
        const insertedLow = new Promise<void>((resolve) => (inserted = resolve));
        const slow = db.transaction().execute(async (trx) => {
          await appendEvents(trx, [event('low')]); // takes the lower id, commits later
          inserted();
          await held;
        });
        try {
          await insertedLow;
          await appendEvents(db, [event('high')]); // the higher id, committed first
          assert.equal((await deliverer(app).tick())[0]!.delivered, 1, 'the committed higher id goes at once');
          clock.advance(3_600_000); // the other transaction commits an hour later: no window to miss
        } finally {
          commit(); // also when an assertion failed: an open transaction would hold the pool at cleanup
          await slow;
        }
        assert.equal((await deliverer(app).tick())[0]!.delivered, 1, 'the late commit is not skipped');
        assert.deepEqual(receiver.events.map((e) => e.sessionId), ['high', 'low'], 'in commit order, each once');
        assert.equal((await deliverer(app).tick())[0]!.delivered, 0);
      });
    }

    test('a second instance on the same database does not deliver while the first holds the lease, and takes over after it expires', async (t) => {
      const deployment = await sharedDeployment(t, backend);
      if (!deployment) return;
      const { receiver, clock } = deployment;
      const one = await deployment.instance();
      const two = await deployment.instance();

      await registerUser(one.http);
      assert.deepEqual((await one.webhooks.tick())[0], { endpoint: receiver.url, leaseHeld: true, delivered: 1, more: false });
      await registerUser(two.http);
      assert.deepEqual((await two.webhooks.tick())[0], { endpoint: receiver.url, leaseHeld: false, delivered: 0, more: false }, 'the lease is held by one');
      assert.equal((await one.webhooks.tick())[0]!.delivered, 1);

      // The first instance stops working without releasing its lease (a crash, a long pause).
      await registerUser(two.http);
      assert.equal((await two.webhooks.tick())[0]!.leaseHeld, false, 'not before the lease expires');
      clock.advance(3000); // the lease (3 s) has run out
      assert.deepEqual((await two.webhooks.tick())[0], { endpoint: receiver.url, leaseHeld: true, delivered: 1, more: false }, 'taken over');
      assert.equal((await one.webhooks.tick())[0]!.leaseHeld, false, 'and now the first one waits');

      // Both race for an expired lease: one wins, nothing is sent twice.
      await registerUser(one.http);
      clock.advance(3001);
      const raced = (await Promise.all([one.webhooks.tick(), two.webhooks.tick()])).map((r) => r[0]!);
      assert.equal(raced.filter((r) => r.leaseHeld).length, 1);
      assert.equal(raced[0]!.delivered + raced[1]!.delivered, 1);
      assert.deepEqual(receiver.events.map((e) => e.id), await eventIds(one.app), 'each event exactly once, in order');
    });

    test('a restart resumes from the cursor: an in-flight delivery finishes on close, nothing is lost or repeated', async (t) => {
      const deployment = await sharedDeployment(t, backend);
      if (!deployment) return;
      const { receiver } = deployment;
      const before = await deployment.instance();
      await registerUser(before.http);
      assert.equal((await before.webhooks.tick())[0]!.delivered, 1);

      await registerUser(before.http);
      await registerUser(before.http);
      receiver.answer = (i) => (i === 1 ? { status: 200, delayMs: 150 } : 200);
      const round = before.webhooks.tick();
      await waitFor(() => receiver.requests.length === 2, 'the slow delivery to start');
      await before.app.close(); // graceful: waits for the POST in flight, records it, starts no other
      assert.equal((await round)[0]!.delivered, 1);
      const [, secondId, thirdId] = await eventIds(before.app);
      assert.equal((await cursorOf(before.app, receiver.url)).last_event_id, secondId);
      assert.equal((await cursorOf(before.app, receiver.url)).lease_owner, null, 'the lease was released');

      const after = await deployment.instance();
      await registerUser(after.http);
      const resumed = await after.webhooks.tick();
      assert.equal(resumed[0]!.delivered, 2, 'at once, without waiting for a lease to expire');
      const ids = receiver.events.map((e) => e.id);
      assert.deepEqual(ids, await eventIds(after.app), 'every event once, in order, across the restart');
      assert.ok(ids.includes(thirdId!));
    });
  });
}

describe('webhooks configuration', () => {
  const env = { WEBHOOK_URLS: 'https://hooks.example.com/sessiond, http://10.0.0.5:8080/in', WEBHOOK_SECRET: SECRET };

  test('URLs and secret are read; without URLs webhooks are off', () => {
    const config = loadConfig(env);
    assert.deepEqual(config.webhooks.urls, ['https://hooks.example.com/sessiond', 'http://10.0.0.5:8080/in']);
    assert.equal(config.webhooks.secret, SECRET);
    assert.deepEqual(loadConfig({}).webhooks.urls, []);
  });

  test('a secret is required with URLs, at least 32 characters, and never echoed', () => {
    assert.throws(() => loadConfig({ WEBHOOK_URLS: env.WEBHOOK_URLS }), (e: Error) => e instanceof ConfigError && /WEBHOOK_SECRET: required/.test(e.message));
    const short = 'too-short-but-still-secret';
    assert.throws(() => loadConfig({ ...env, WEBHOOK_SECRET: short }), (e: Error) => e instanceof ConfigError && /WEBHOOK_SECRET/.test(e.message) && !e.message.includes(short));
  });

  test('only http(s) URLs without credentials, named by position', () => {
    for (const bad of ['ftp://example.com/x', 'not a url', 'https://user:pass@example.com/x']) {
      assert.throws(
        () => loadConfig({ ...env, WEBHOOK_URLS: `https://ok.example.com,${bad}` }),
        (e: Error) => e instanceof ConfigError && e.message.includes('WEBHOOK_URLS: entry 2') && !e.message.includes('pass@'),
      );
    }
  });
});
