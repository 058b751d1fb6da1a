// test-tier: full (slow: 15 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { AppConfig } from '../../src/config.ts';
import { defaultConfig } from '../../src/config.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { backendNames, type BackendName } from '../helpers/backends.ts';
import { isProblem, login, registerUser, type SignedIn } from '../helpers/http.ts';
import { captureLogs, type LogCapture } from '../helpers/logs.ts';
import { readResetMail, startSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

const PUBLIC_URL = 'https://accounts.example.com';
const NEW_PASSWORD = 'a brand new passphrase 42';
const WEBHOOK_SECRET = 'whk-test-secret-0123456789-abcdefghij';

const mailConfig = (smtp: TestSmtpServer): Partial<AppConfig> => ({
  publicUrl: PUBLIC_URL,
  mail: { ...defaultConfig.mail, smtpUrl: smtp.url, from: 'Accounts <no-reply@example.com>', pollIntervalMs: 0, timeoutMs: 2000 },
});

async function startWithSmtp(t: TestContext, backend: BackendName, smtp: TestSmtpServer, logs?: LogCapture): Promise<TestApp | undefined> {
  return startApp(t, backend, { config: mailConfig(smtp), ...(logs ? { deps: { logger: { level: 'info', stream: logs.stream } } } : {}) });
}

/** Asks for a reset and runs one delivery round; returns the answer. */
async function requestReset(env: TestApp, email: string) {
  const res = await env.http.post('/auth/password-reset', { email });
  await env.app.sessiond.passwordResets.tick();
  return res;
}

for (const backend of backendNames) {
  describe(`password reset (${backend})`, () => {
    test('by mail through a real SMTP server: the link sets the password once, every old session ends', async (t) => {
      const smtp = await startSmtpServer(t);
      const logs = captureLogs();
      const env = await startWithSmtp(t, backend, smtp, logs);
      if (!env) return;
      const { http, clock } = env;
      const ada = await registerUser(http, { email: 'ada@example.com' });
      const phone = await login(http, ada);

      const asked = await requestReset(env, 'ADA@example.com');
      assert.equal(asked.status, 202);
      assert.equal(smtp.mails.length, 1);
      const mail = smtp.mails[0]!;
      assert.deepEqual([mail.from, mail.to], ['no-reply@example.com', ['ada@example.com']]);
      const { link, token, hasText, hasHtml } = readResetMail(mail);
      assert.ok(hasText && hasHtml, 'a plain-text and an HTML part');
      assert.equal(link, `${PUBLIC_URL}/reset-password?token=${token}`);
      assert.equal(Buffer.from(token, 'base64url').length, 32, '256 random bits');
      assert.match(mail.raw, /Subject: Reset your password/);

      // The token is nowhere in the database, in plain text.
      const db = env.app.sessiond.database.db;
      const stored = JSON.stringify([
        await db.selectFrom('password_reset_tokens').selectAll().execute(),
        await db.selectFrom('password_reset_requests').selectAll().execute(),
        await db.selectFrom('session_events').selectAll().execute(),
      ]);
      assert.ok(!stored.includes(token));
      assert.ok(stored.includes(crypto.createHash('sha256').update(token).digest('hex')), 'only its SHA-256');

      // A password refused by the policy: 400, and the link still works.
      const weak = await http.post('/auth/password-reset/confirm', { token, newPassword: 'short' });
      assert.deepEqual([weak.status, weak.body.type], [400, 'urn:sessiond:problem:weak-password']);

      clock.advanceSeconds(29 * 60);
      const done = await http.post('/auth/password-reset/confirm', { token, newPassword: NEW_PASSWORD });
      assert.equal(done.status, 204, done.text);
      // Every old session is refused on its next request, and cannot be refreshed.
      for (const s of [ada, phone]) {
        assert.equal((await http.get('/auth/me', { token: s.accessToken })).status, 401);
        assert.equal((await http.post('/auth/refresh', { refreshToken: s.refreshToken })).status, 401);
      }
      const adminKey = { 'x-admin-key': (await env.app.sessiond.adminKeys.create('ops', clock.now())).secret };
      const ended = await http.get(`/admin/users/${ada.userId}/sessions?status=ended`, { headers: adminKey });
      assert.deepEqual(ended.body.data.map((s: any) => s.endReason), ['password_reset', 'password_reset']);
      // The old password no longer works; the new one does.
      assert.equal((await http.post('/auth/login', { email: 'ada@example.com', password: ada.password })).status, 401);
      assert.equal((await http.post('/auth/login', { email: 'ada@example.com', password: NEW_PASSWORD })).status, 200);

      // Single use: the same token again is the same 400 as any bad token.
      const again = await http.post('/auth/password-reset/confirm', { token, newPassword: 'yet another passphrase' });
      const unknown = await http.post('/auth/password-reset/confirm', { token: crypto.randomBytes(32).toString('base64url'), newPassword: 'yet another passphrase' });
      assert.equal(again.status, 400);
      assert.ok(isProblem(again));
      assert.deepEqual(again.body, unknown.body);
      assert.equal(again.body.type, 'urn:sessiond:problem:invalid-reset-token');

      // No log line carries the token (the request log of a confirm has none in its URL either).
      assert.ok(logs.text().length > 0);
      assert.ok(!logs.text().includes(token), 'no token in any log line');
    });

    test('a newer request voids the older link; a link expires after 30 minutes', async (t) => {
      const smtp = await startSmtpServer(t);
      const env = await startWithSmtp(t, backend, smtp);
      if (!env) return;
      const { http, clock } = env;
      await registerUser(http, { email: 'bob@example.com' });
      await requestReset(env, 'bob@example.com');
      await requestReset(env, 'bob@example.com');
      assert.equal(smtp.mails.length, 2);
      const [first, second] = smtp.mails.map((m) => readResetMail(m).token);
      assert.notEqual(first, second);
      const voided = await http.post('/auth/password-reset/confirm', { token: first, newPassword: NEW_PASSWORD });
      assert.deepEqual([voided.status, voided.body.type], [400, 'urn:sessiond:problem:invalid-reset-token']);
      clock.advanceSeconds(30 * 60);
      const expired = await http.post('/auth/password-reset/confirm', { token: second, newPassword: NEW_PASSWORD });
      assert.deepEqual([expired.status, expired.body.type], [400, 'urn:sessiond:problem:invalid-reset-token']);
    });

    test('an SMTP server that is down or refuses does not fail the request; delivery is retried, failures in metrics and logs without the token', async (t) => {
      const smtp = await startSmtpServer(t);
      await smtp.close(); // down: connections refused
      const logs = captureLogs();
      const env = await startWithSmtp(t, backend, smtp, logs);
      if (!env) return;
      const { http, clock, app } = env;
      await registerUser(http, { email: 'cy@example.com' });
      const unknown = await http.post('/auth/password-reset', { email: 'nobody@example.com' });
      const res = await http.post('/auth/password-reset', { email: 'cy@example.com' });
      assert.deepEqual([res.status, res.body], [unknown.status, unknown.body]);
      assert.equal(res.status, 202);

      const round = await app.sessiond.passwordResets.tick();
      assert.deepEqual(round, { delivered: 0, dropped: 1, failed: 1 }, 'the unknown email is dropped, the mail failed');
      const failure = logs.lines().find((l) => l.msg === 'password reset mail failed; will retry');
      assert.ok(failure, 'the failure is logged');
      assert.equal(failure.error, 'ESOCKET'); // nodemailer's code for a refused connection
      assert.equal(failure.attempt, 1);
      const metrics = await http.get('/metrics');
      assert.match(metrics.text, /^sessiond_password_reset_delivery_failures_total 1$/m);

      // Not due before its back-off (about 1 s): nothing is attempted.
      assert.deepEqual(await app.sessiond.passwordResets.tick(), { delivered: 0, dropped: 0, failed: 0 });

      // Up, but refusing (SMTP 550): the second failure doubles the wait.
      await smtp.listen();
      smtp.refuseWith = 550;
      clock.advanceSeconds(2);
      assert.deepEqual(await app.sessiond.passwordResets.tick(), { delivered: 0, dropped: 0, failed: 1 });
      assert.equal(logs.lines().filter((l) => l.msg === 'password reset mail failed; will retry').at(-1)?.error, 'SMTP 550');

      smtp.refuseWith = undefined;
      clock.advanceSeconds(5);
      assert.deepEqual(await app.sessiond.passwordResets.tick(), { delivered: 1, dropped: 0, failed: 0 });
      assert.equal(smtp.mails.length, 1);
      const { token } = readResetMail(smtp.mails[0]!);
      assert.equal((await http.post('/auth/password-reset/confirm', { token, newPassword: NEW_PASSWORD })).status, 204);
      assert.ok(!logs.text().includes(token), 'no token in any log line');
      assert.ok(!logs.text().includes('cy@example.com'), 'no email address in the delivery logs');
    });

    test('without SMTP: a signed password_reset.requested webhook event carries the link; the outbox keeps it sealed', async (t) => {
      const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
      const receiver = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
      const env = await startApp(t, backend, {
        config: { publicUrl: PUBLIC_URL, webhooks: { ...defaultConfig.webhooks, urls: [url], secret: WEBHOOK_SECRET, pollIntervalMs: 0 } },
      });
      if (!env) return;
      const { http: client, clock, app } = env;
      const dan = await registerUser(client, { email: 'dan@example.com' });
      clock.advanceSeconds(3);
      await app.sessiond.webhooks!.tick(); // session.created
      received.length = 0;

      assert.equal((await client.post('/auth/password-reset', { email: 'dan@example.com' })).status, 202);
      assert.equal((await client.post('/auth/password-reset', { email: 'nobody@example.com' })).status, 202);
      assert.deepEqual(await app.sessiond.passwordResets.tick(), { delivered: 1, dropped: 1, failed: 0 });
      clock.advanceSeconds(3); // past the webhooks' settling delay
      await app.sessiond.webhooks!.tick();
      assert.equal(received.length, 1);
      const { headers, body } = received[0]!;
      // Signed like every webhook (Standard Webhooks: HMAC-SHA256 over id.timestamp.body).
      const expected = crypto.createHmac('sha256', WEBHOOK_SECRET).update(`${String(headers['webhook-id'])}.${String(headers['webhook-timestamp'])}.${body}`).digest('base64');
      assert.ok(String(headers['webhook-signature']).split(' ').includes(`v1,${expected}`));
      const event = JSON.parse(body);
      assert.deepEqual([event.type, event.userId, event.sessionId, event.data.email], ['password_reset.requested', dan.userId, null, 'dan@example.com']);
      const link = new URL(event.data.link);
      assert.equal(`${link.origin}${link.pathname}`, `${PUBLIC_URL}/reset-password`);
      const token = link.searchParams.get('token')!;
      assert.equal(event.data.sealedLink, undefined);

      // The outbox row (and so /admin/events) holds the link sealed, never usable.
      const rows = await app.sessiond.database.db.selectFrom('session_events').selectAll().where('type', '=', 'password_reset.requested').execute();
      assert.equal(rows.length, 1);
      assert.ok(!JSON.stringify(rows).includes(token));
      const adminKey = { 'x-admin-key': (await app.sessiond.adminKeys.create('ops', clock.now())).secret };
      const listed = await client.get('/admin/events?type=password_reset.requested', { headers: adminKey });
      assert.equal(listed.status, 200, listed.text);
      assert.equal(listed.body.data[0].sessionId, null);
      assert.ok(!listed.text.includes(token));

      assert.equal((await client.post('/auth/password-reset/confirm', { token, newPassword: NEW_PASSWORD })).status, 204);
      assert.equal((await client.get('/auth/me', { token: dan.accessToken })).status, 401);
    });

    test('no enumeration: the same status, body and time for an existing and an unknown email', async (t) => {
      const smtp = await startSmtpServer(t);
      const env = await startWithSmtp(t, backend, smtp);
      if (!env) return;
      const { http } = env;
      await registerUser(http, { email: 'erin@example.com' });
      const answers = new Set<string>();
      const timed = async (email: string) => {
        const started = performance.now();
        const res = await http.post('/auth/password-reset', { email });
        answers.add(`${res.status} ${res.text}`);
        return performance.now() - started;
      };
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      // Warm-up, then pairs measured back to back, the order alternating: the machine's load
      // (shared with other work) changes slowly next to one pair, so the difference within each
      // pair is what the service itself adds; its median ignores the odd descheduled request.
      for (const email of ['erin@example.com', 'warm@example.com']) await timed(email);
      // The request does the same work for both (one insert). 5 ms leaves room for a loaded
      // machine, yet is far below what finding the account and mailing inside the request would
      // add (an SMTP conversation; tens of milliseconds). Up to three rounds of 20 pairs, passing on
      // the first round within 5 ms: a difference the service adds shows in every round, while a
      // burst of other work on this shared machine (other test files run at the same time) spoils one.
      const rounds: string[] = [];
      let within = false;
      for (let round = 0; round < 3 && !within; round++) {
        const timings = { existing: [] as number[], unknown: [] as number[] };
        const pairedDifferences: number[] = [];
        for (let i = 0; i < 20; i++) {
          const unknownEmail = `nobody${round}-${i}@example.com`;
          const [existing, unknown] = i % 2 === 0
            ? [await timed('erin@example.com'), await timed(unknownEmail)]
            : [await timed(unknownEmail), await timed('erin@example.com')].reverse() as [number, number];
          timings.existing.push(existing);
          timings.unknown.push(unknown);
          pairedDifferences.push(existing - unknown);
        }
        const [existing, unknown, difference] = [median(timings.existing), median(timings.unknown), median(pairedDifferences)];
        rounds.push(`existing ${existing.toFixed(2)} ms, unknown ${unknown.toFixed(2)} ms, median paired difference ${difference.toFixed(2)} ms`);
        within = Math.abs(difference) < 5;
      }
      t.diagnostic(`medians over 20 requests each, by round: ${rounds.join('; ')}`);
      assert.equal(answers.size, 1, `one answer for all: ${[...answers].join(' | ')}`);
      assert.match([...answers][0]!, /^202 /);
      assert.ok(within, `existing and unknown emails differ by 5 ms or more in every round: ${rounds.join('; ')}`);
      // Nothing was sent inside the requests.
      assert.equal(smtp.mails.length, 0);
    });

    test('rate-limited per address and per account, the same for known and unknown emails', async (t) => {
      const env = await startApp(t, backend, { config: { rateLimit: { ...defaultConfig.rateLimit, enabled: true, perIpPerMinute: 8, failuresBeforeDelay: 3 } } });
      if (!env) return;
      const { http, clock } = env;
      await registerUser(http, { email: 'fay@example.com' }).catch(() => undefined);
      for (const email of ['fay@example.com', 'ghost@example.com']) {
        const statuses = [];
        for (let i = 0; i < 5; i++) statuses.push((await http.post('/auth/password-reset', { email })).status);
        // Three requests, then a doubling wait (1 s, 2 s, …, capped).
        assert.deepEqual(statuses, [202, 202, 202, 429, 429], email);
      }
      const limited = await http.post('/auth/password-reset', { email: 'fay@example.com' });
      assert.ok(isProblem(limited));
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      // Per address: the 9th request of the minute from one address, whatever the email.
      clock.advanceSeconds(61);
      const statuses = [];
      for (let i = 0; i < 9; i++) statuses.push((await http.post('/auth/password-reset', { email: `other${i}@example.com` })).status);
      assert.deepEqual(statuses, [202, 202, 202, 202, 202, 202, 202, 202, 429]);
    });

    test('bad input: malformed emails, bodies and tokens get 400 problems', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http } = env;
      const cases: Array<[string, unknown]> = [
        ['/auth/password-reset', { email: 'not an email' }],
        ['/auth/password-reset', { email: 'a@b.c'.repeat(100) }],
        ['/auth/password-reset', {}],
        ['/auth/password-reset', { email: ['a@example.com'] }],
        ['/auth/password-reset', 'a@example.com'],
        ['/auth/password-reset/confirm', { token: 'abc' }],
        ['/auth/password-reset/confirm', { newPassword: NEW_PASSWORD }],
        ['/auth/password-reset/confirm', { token: 'x'.repeat(300), newPassword: NEW_PASSWORD }],
        ['/auth/password-reset/confirm', { token: 42, newPassword: NEW_PASSWORD }],
      ];
      for (const [path, body] of cases) {
        const res = await http.post(path, body);
        assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}: ${res.text}`);
        assert.ok(isProblem(res));
      }
      const raw = await http.request('POST', '/auth/password-reset', { headers: { 'content-type': 'application/json' }, raw: '{"email":' });
      assert.deepEqual([raw.status, isProblem(raw)], [400, true]);
      const tokens = ['not-a-token', crypto.randomBytes(32).toString('base64url'), 'A'.repeat(43)];
      const bodies = new Set<string>();
      for (const token of tokens) {
        const res = await http.post('/auth/password-reset/confirm', { token, newPassword: NEW_PASSWORD });
        assert.equal(res.status, 400);
        bodies.add(res.text);
      }
      assert.equal(bodies.size, 1, 'every bad token gets the same problem');
    });

    test("a user created by the application's backend has no password until a reset sets one", async (t) => {
      const smtp = await startSmtpServer(t);
      const env = await startWithSmtp(t, backend, smtp);
      if (!env) return;
      const { http, app, clock } = env;
      const headers = { 'x-service-key': (await app.sessiond.serviceKeys.create('backend', ['sessions:issue'], clock.now())).secret };
      const user = await http.request('PUT', '/admin/users/by-email/hal@example.com', { headers, body: {} });
      const issued = await http.post(`/admin/users/${user.body.id}/sessions`, { ipAddress: null, userAgent: null, authMethod: 'oauth:github' }, { headers });
      assert.equal((await http.post('/auth/login', { email: 'hal@example.com', password: NEW_PASSWORD })).status, 401);
      await requestReset(env, 'hal@example.com');
      const { token } = readResetMail(smtp.mails[0]!);
      assert.equal((await http.post('/auth/password-reset/confirm', { token, newPassword: NEW_PASSWORD })).status, 204);
      assert.equal((await http.get('/auth/me', { token: issued.body.accessToken })).status, 401, 'the issued session ended too');
      const signedIn = await http.post('/auth/login', { email: 'hal@example.com', password: NEW_PASSWORD });
      assert.equal(signedIn.status, 200);
      const sessions = await http.get('/sessions', { token: signedIn.body.accessToken });
      assert.deepEqual(sessions.body.data.map((s: SignedIn & { authMethod: string }) => s.authMethod), ['password']);
    });
  });
}


