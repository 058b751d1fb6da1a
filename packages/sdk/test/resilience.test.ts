// test-tier: full (slow: 9 s, measured on the loaded shared machine)
// What the SDK does beyond typescript-fetch, over real HTTP: FetchError names the method, the URL
// and the cause; timeouts and AbortSignals per call and per Configuration; bounded retries of
// idempotent requests on 503 honouring Retry-After (a real proxy in front of the service injects
// the 503s); the token lifecycle (single-flight refresh on 401, retried once, tokens to a callback).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { registerUser } from '../../server/test/helpers/http.ts';
import { AuthApi, Configuration, FetchError, ResponseError, SessionsApi, TokenLifecycle, type Tokens } from '../src/index.ts';

/** A real HTTP server on a loopback port; closed after the test. */
async function listen(t: TestContext, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A proxy to `target` that answers the first `failures` requests 503 with `retryAfter`. */
async function flakyProxy(t: TestContext, target: string, failures: number, retryAfter: string | undefined) {
  const seen: Array<{ method: string; at: number }> = [];
  const url = await listen(t, (request, response) => {
    seen.push({ method: request.method!, at: performance.now() });
    if (seen.length <= failures) {
      response.writeHead(503, { 'content-type': 'application/problem+json', ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) });
      response.end(JSON.stringify({ type: 'urn:sessiond:problem:service-unavailable', title: 'Service temporarily unavailable', status: 503, detail: 'injected' }));
      return;
    }
    const upstream = http.request(target + request.url, { method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(response);
    });
    request.pipe(upstream);
  });
  return { url, seen };
}

test('FetchError names the method, the URL and the cause: refused connection, timeout, abort', async (t) => {
  // A port that was just free: nothing listens there.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const freePort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const refused = new SessionsApi(new Configuration({ basePath: `http://127.0.0.1:${freePort}`, accessToken: 'x' }));
  const error = await refused.sessionControllerGetSessionCount().catch((e: unknown) => e);
  assert.ok(error instanceof FetchError, String(error));
  assert.equal(error.method, 'GET');
  assert.equal(error.url, `http://127.0.0.1:${freePort}/sessions/count`);
  assert.match(error.message, new RegExp(`^GET http://127\\.0\\.0\\.1:${freePort}/sessions/count failed: .*ECONNREFUSED`));
  assert.ok(error.cause instanceof Error);

  // A server that never answers: the configured timeout ends the call.
  const hanging = await listen(t, () => {});
  const slow = new SessionsApi(new Configuration({ basePath: hanging, accessToken: 'x', timeoutMs: 150 }));
  const started = performance.now();
  const timedOut = await slow.sessionControllerGetSessionCount().catch((e: unknown) => e);
  assert.ok(timedOut instanceof FetchError);
  assert.match(timedOut.message, /^GET http:\/\/127\.0\.0\.1:\d+\/sessions\/count failed: timed out/);
  assert.equal(timedOut.cause.name, 'TimeoutError');
  assert.ok(performance.now() - started < 5000, 'the timeout bounded the call');

  // Per call: a timeout that replaces the configured one, and a caller's AbortSignal.
  const patient = new SessionsApi(new Configuration({ basePath: hanging, accessToken: 'x', timeoutMs: 60_000 }));
  const perCall = await patient.sessionControllerGetSessionCount({ timeoutMs: 100 }).catch((e: unknown) => e);
  assert.ok(perCall instanceof FetchError && perCall.cause.name === 'TimeoutError', String(perCall));
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('user left the page')), 50);
  const aborted = await patient.sessionControllerGetSessionCount({ signal: controller.signal }).catch((e: unknown) => e);
  assert.ok(aborted instanceof FetchError);
  assert.match(aborted.message, /user left the page/);

  // A Configuration-wide signal aborts every call made with it.
  const shutdown = new AbortController();
  shutdown.abort(new Error('app shutting down'));
  const configured = new SessionsApi(new Configuration({ basePath: hanging, accessToken: 'x', signal: shutdown.signal }));
  const refusedByConfig = await configured.sessionControllerGetSessionCount().catch((e: unknown) => e);
  assert.ok(refusedByConfig instanceof FetchError);
  assert.match(refusedByConfig.message, /app shutting down/);
});

test('503: idempotent requests are retried after Retry-After, a bounded number of times; POST is not', async (t) => {
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const user = await registerUser(env.http);

  const proxy = await flakyProxy(t, env.url, 2, '1');
  const api = new SessionsApi(new Configuration({ basePath: proxy.url, accessToken: user.accessToken }));
  assert.deepEqual(await api.sessionControllerGetSessionCount(), { count: 1 });
  assert.equal(proxy.seen.length, 3, 'two 503s, then the answer');
  assert.ok(proxy.seen[1]!.at - proxy.seen[0]!.at >= 950, 'waited Retry-After: 1');

  // More 503s than maxRetries: the last one is the caller's ResponseError.
  const stubborn = await flakyProxy(t, env.url, 10, '0');
  const bounded = new SessionsApi(new Configuration({ basePath: stubborn.url, accessToken: user.accessToken, retry: { maxRetries: 3 } }));
  const error = await bounded.sessionControllerGetSessionCount().catch((e: unknown) => e);
  assert.ok(error instanceof ResponseError && error.status === 503);
  assert.equal(stubborn.seen.length, 4, 'one try and three retries');

  // A Retry-After longer than maxDelayMs is not waited for.
  const far = await flakyProxy(t, env.url, 1, '3600');
  const impatient = new SessionsApi(new Configuration({ basePath: far.url, accessToken: user.accessToken }));
  const farError = await impatient.sessionControllerGetSessionCount().catch((e: unknown) => e);
  assert.ok(farError instanceof ResponseError && farError.status === 503);
  assert.equal(far.seen.length, 1);

  // POST is not idempotent: never retried.
  const once = await flakyProxy(t, env.url, 1, '0');
  const auth = new AuthApi(new Configuration({ basePath: once.url }));
  const postError = await auth.authControllerLogin({ loginRequest: { email: user.email, password: user.password } }).catch((e: unknown) => e);
  assert.ok(postError instanceof ResponseError && postError.status === 503);
  assert.equal(once.seen.length, 1);

  // retry: false turns retries off.
  const off = await flakyProxy(t, env.url, 1, '0');
  const noRetry = new SessionsApi(new Configuration({ basePath: off.url, accessToken: user.accessToken, retry: false }));
  await assert.rejects(noRetry.sessionControllerGetSessionCount(), (e: unknown) => e instanceof ResponseError && e.status === 503);
  assert.equal(off.seen.length, 1);
});

test('TokenLifecycle: an expired access token is refreshed once for concurrent requests, each retried once; a revoked session signs out', async (t) => {
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const user = await registerUser(env.http);
  const handed: Array<Tokens | undefined> = [];
  let refreshes = 0;
  const lifecycle = new TokenLifecycle({
    basePath: env.url,
    tokens: user,
    onTokens: (tokens) => {
      handed.push(tokens);
    },
    configuration: {
      middleware: [{ pre: async (context) => void (new URL(context.url).pathname === '/auth/refresh' && refreshes++) }],
    },
  });
  const sessions = new SessionsApi(lifecycle.configuration());
  assert.deepEqual(await sessions.sessionControllerGetSessionCount(), { count: 1 });

  // The access token expires (15 min); five requests fail together and share one refresh.
  env.clock.advanceSeconds(16 * 60);
  const answers = await Promise.all(Array.from({ length: 5 }, () => sessions.sessionControllerGetSessionCount()));
  assert.deepEqual(answers, Array.from({ length: 5 }, () => ({ count: 1 })));
  assert.equal(refreshes, 1, 'single flight');
  assert.equal(handed.length, 1);
  assert.notEqual(handed[0]!.accessToken, user.accessToken);
  assert.notEqual(handed[0]!.refreshToken, user.refreshToken, 'the rotated refresh token is handed over');
  assert.equal(lifecycle.tokens?.accessToken, handed[0]!.accessToken);

  // The session is revoked elsewhere: the refresh is refused, the tokens are cleared, and the
  // caller gets the 401 (retried once, not in a loop).
  await env.app.sessiond.sessions.revoke(user.userId, user.sessionId, 'user_revoked');
  env.clock.advanceSeconds(16 * 60);
  await assert.rejects(sessions.sessionControllerGetSessionCount(), (e: unknown) => e instanceof ResponseError && e.status === 401);
  assert.equal(refreshes, 2);
  assert.deepEqual(handed.at(-1), undefined);
  assert.equal(lifecycle.tokens, undefined);
});
