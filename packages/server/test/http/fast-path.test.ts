// test-tier: full (slow: 19 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import nodeHttp from 'node:http';
import { describe, test, type TestContext } from 'node:test';
import { redactPaths } from '../../src/app.ts';
import type { AppConfig } from '../../src/config.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { captureLogs } from '../helpers/logs.ts';
import { isProblem, login, registerUser, type HttpResult } from '../helpers/http.ts';

/**
 * The session checks' fast path (src/http/fast-path.ts) must be invisible: the same status, body,
 * headers, log line and metrics as the full Fastify path, and never an answer the full path would
 * not give. A token's first presentation always takes the full path (it is not yet verified in this
 * process), so the first and second of two identical requests compare the two paths.
 */

interface Logged {
  app: TestApp;
  lines: () => Array<Record<string, any>>;
}

async function start(t: TestContext, config: Partial<AppConfig> = {}): Promise<Logged> {
  const logs = captureLogs();
  const app = await startApp(t, 'sqlite', { config, deps: { logger: { level: 'info', stream: logs.stream, redact: redactPaths } } });
  assert.ok(app);
  return { app, lines: () => logs.lines().filter((line) => line.msg === 'request completed') };
}

const served = (env: TestApp) => env.app.sessiond.fastPath?.served ?? 0;

/** Headers that must be identical; Date and the request id differ from one request to the next. */
function comparable(res: HttpResult): Array<[string, string]> {
  const all: Array<[string, string]> = [];
  res.headers.forEach((value, name) => all.push([name, value]));
  return all.filter(([name]) => name !== 'date' && name !== 'x-request-id').sort(([a], [b]) => a.localeCompare(b));
}

/** Sends `path` twice; asserts the first took the full path, the second the fast path, with the same answer. */
async function bothPaths(env: TestApp, path: string, token: string, expectFastSecond = true): Promise<HttpResult> {
  const before = served(env);
  const full = await env.http.get(path, { token });
  assert.equal(served(env), before, `${path}: a token's first presentation takes the full path`);
  const fast = await env.http.get(path, { token });
  assert.equal(served(env), before + (expectFastSecond ? 1 : 0), `${path}: the repeat is answered by the fast path`);
  assert.equal(fast.status, full.status);
  assert.equal(fast.text, full.text, `${path}: byte-identical bodies`);
  assert.deepEqual(comparable(fast), comparable(full), `${path}: identical headers`);
  assert.match(fast.headers.get('x-request-id') ?? '', /^[0-9a-f]{12}-[0-9a-z]+$/);
  assert.notEqual(fast.headers.get('x-request-id'), full.headers.get('x-request-id'));
  return fast;
}

describe('session checks: the fast path', () => {
  test('answers validate, /auth/me, the list and the count exactly as the full path does: body, headers, log line, metrics', async (t) => {
    const { app: env, lines } = await start(t);
    const a = await registerUser(env.http, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0' });
    const other = await registerUser(env.http);

    const own = await bothPaths(env, `/sessions/validate/${a.sessionId}`, a.accessToken);
    assert.equal(own.status, 200);
    assert.equal(own.body.valid, true);
    assert.equal(own.headers.get('cache-control'), 'no-store');
    // Another user's session: "not valid", from memory too (the cache knows it is not the caller's).
    const foreign = await env.http.get(`/sessions/validate/${other.sessionId}`, { token: a.accessToken });
    assert.deepEqual(foreign.body, { sessionId: other.sessionId, valid: false, expiresAt: null });
    // The caller's list and count (database reads) on both paths.
    await login(env.http, other, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1');
    const list = await bothPaths(env, '/sessions', other.accessToken);
    assert.equal(list.body.meta.total, 2);
    assert.equal(list.body.data.filter((s: { isCurrent: boolean }) => s.isCurrent).length, 1);
    const a2 = await login(env.http, a); // a token not yet seen
    assert.equal((await bothPaths(env, '/sessions/count', a2.accessToken)).body.count, 2);
    const me = await bothPaths(env, '/auth/me', other.accessToken);
    assert.equal(me.body.user.email, other.email);
    assert.equal(me.body.sessionId, other.sessionId);

    // The log lines of the full and the fast answer have the same fields.
    const checks = lines().filter((l) => l.req.url === `/sessions/validate/${a.sessionId}`);
    assert.equal(checks.length, 2, 'one line per request on both paths');
    const shape = (l: Record<string, any>) => ({ ...l, time: 0, reqId: '', responseTime: 0 });
    assert.deepEqual(shape(checks[1]!), shape(checks[0]!));
    assert.equal(checks[1]!.req.remoteAddress, '127.0.0.1');
    assert.equal(typeof checks[1]!.responseTime, 'number');
    assert.equal(checks[1]!.reqId, own.headers.get('x-request-id'));

    // Both answers are counted under the route pattern.
    const metrics = (await env.http.get('/metrics')).text;
    assert.match(metrics, /sessiond_http_requests_total\{method="GET",route="\/sessions\/validate\/:sessionId",status="200"\} 3/);
    assert.match(metrics, /sessiond_http_requests_total\{method="GET",route="\/auth\/me",status="200"\} 2/);
  });

  test('every refusal comes from the full path: revoked, expired, bad or unknown tokens', async (t) => {
    const { app: env } = await start(t);
    const a = await registerUser(env.http);
    const b = await login(env.http, a);
    await bothPaths(env, `/sessions/validate/${b.sessionId}`, b.accessToken);

    // Revoked from another device: refused at once, by the full path (nothing served here).
    assert.equal((await env.http.delete(`/sessions/${b.sessionId}`, { token: a.accessToken })).status, 200);
    let before = served(env);
    const revoked = await env.http.get(`/sessions/validate/${b.sessionId}`, { token: b.accessToken });
    assert.equal(revoked.status, 401);
    assert.ok(isProblem(revoked));
    assert.equal(served(env), before);

    // A tampered token, a token of unknown shape, no token: the full path's 401s.
    const attempts: Array<Record<string, string>> = [{ authorization: `Bearer ${a.accessToken}x` }, { authorization: 'Bearer x' }, {}];
    for (const headers of attempts) {
      const res = await env.http.get(`/sessions/validate/${a.sessionId}`, { headers });
      assert.equal(res.status, 401);
      assert.ok(isProblem(res));
    }
    assert.equal(served(env), before);

    // Expired: the verified token is known here, but past its exp it is the full path's to refuse.
    before = served(env);
    assert.equal((await env.http.get(`/sessions/validate/${a.sessionId}`, { token: a.accessToken })).status, 200);
    assert.equal(served(env), before + 1, 'a verified (by the DELETE above), live token: fast');
    env.clock.advanceSeconds(16 * 60);
    before = served(env);
    const expired = await env.http.get(`/sessions/validate/${a.sessionId}`, { token: a.accessToken });
    assert.equal(expired.status, 401);
    assert.equal(served(env), before);
  });

  test('requests it does not recognise exactly take the full path, with the full path answer', async (t) => {
    const { app: env } = await start(t);
    const a = await registerUser(env.http);
    const path = `/sessions/validate/${a.sessionId}`;
    await bothPaths(env, path, a.accessToken);
    // An upper-case id is the same id (UUIDs are case-insensitive on input): both paths accept it and
    // answer with the canonical form, byte for byte alike.
    const c = await login(env.http, a);
    const upper = await bothPaths(env, `/sessions/validate/${c.sessionId.toUpperCase()}`, c.accessToken);
    assert.equal(upper.body.sessionId, c.sessionId);
    const before = served(env);
    const variants: Array<{ path: string; headers: Record<string, string>; status: number }> = [
      { path, headers: { authorization: `bearer ${a.accessToken}` }, status: 200 }, // scheme is case-insensitive
      { path, headers: { authorization: `Bearer  ${a.accessToken}` }, status: 200 }, // two spaces
      { path: `${path}?x=1`, headers: { authorization: `Bearer ${a.accessToken}` }, status: 200 },
      { path: `${path}/`, headers: { authorization: `Bearer ${a.accessToken}` }, status: 404 },
    ];
    for (const v of variants) {
      const res = await env.http.get(v.path, { headers: v.headers });
      assert.equal(res.status, v.status, `${v.path} ${JSON.stringify(Object.keys(v.headers))}`);
    }
    // A body on a GET (fetch will not send one), and a HEAD: the full path decides.
    const withBody = await new Promise<number>((resolve, reject) => {
      const req = nodeHttp.request(env.url + path, { method: 'GET', headers: { authorization: `Bearer ${a.accessToken}`, 'content-type': 'application/json', 'content-length': '2' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });
    assert.equal(withBody, 200);
    const head = await fetch(env.url + path, { method: 'HEAD', headers: { authorization: `Bearer ${a.accessToken}` } });
    assert.equal(head.status, 200);
    assert.equal(served(env), before, 'none of these was answered by the fast path');
  });

  test('a database read that fails on the fast path is retried by the full path, which answers', async (t) => {
    const { app: env } = await start(t);
    const a = await registerUser(env.http);
    await bothPaths(env, '/sessions', a.accessToken);
    const sessions = env.app.sessiond.sessions;
    const real = sessions.list;
    let failures = 0;
    // Fault injection: the next list read fails once (as a dropped database connection would).
    sessions.list = () => {
      sessions.list = real;
      failures++;
      return Promise.reject(new Error('injected: connection terminated'));
    };
    t.after(() => {
      sessions.list = real;
    });
    const before = served(env);
    const res = await env.http.get('/sessions', { token: a.accessToken });
    assert.equal(failures, 1, 'the fast path tried first');
    assert.equal(res.status, 200, 'the full path answered');
    assert.equal(res.body.meta.total, 1);
    assert.equal(served(env), before);
  });

  test('a fast-path read that timed out is not read again: the full path answers 503 at once', async (t) => {
    const { app: env } = await start(t);
    const a = await registerUser(env.http);
    await bothPaths(env, '/sessions', a.accessToken);
    const sessions = env.app.sessiond.sessions;
    const real = sessions.list;
    let reads = 0;
    // Fault injection: the database does not answer (node-postgres's client-side timeout).
    sessions.list = () => {
      reads++;
      return Promise.reject(new Error('Query read timeout'));
    };
    t.after(() => {
      sessions.list = real;
    });
    const res = await env.http.get('/sessions', { token: a.accessToken });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(reads, 1, 'one wait, not two');
    sessions.list = real;
    assert.equal((await env.http.get('/sessions', { token: a.accessToken })).status, 200, 'nothing left behind');
  });

  test('under CORS, a request with an Origin gets its CORS headers from the full path', async (t) => {
    const { app: env } = await start(t, { corsOrigins: ['https://app.example.com'] });
    const a = await registerUser(env.http);
    const path = `/sessions/validate/${a.sessionId}`;
    await bothPaths(env, path, a.accessToken); // no Origin: fast
    const before = served(env);
    const res = await env.http.get(path, { token: a.accessToken, headers: { origin: 'https://app.example.com' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(served(env), before);
  });

  test('behind a trusted proxy, both paths log the forwarded client address', async (t) => {
    const { app: env, lines } = await start(t, { trustProxy: ['127.0.0.1'] });
    const a = await registerUser(env.http);
    const path = `/sessions/validate/${a.sessionId}`;
    const headers = { authorization: `Bearer ${a.accessToken}`, 'x-forwarded-for': '203.0.113.7' };
    const before = served(env);
    await env.http.get(path, { headers });
    await env.http.get(path, { headers });
    assert.equal(served(env), before + 1);
    const logged = lines().filter((l) => l.req.url === path);
    assert.deepEqual(logged.map((l) => l.req.remoteAddress), ['203.0.113.7', '203.0.113.7']);
  });

  test('FAST_PATH=off: every request takes the full path', async (t) => {
    const { app: env } = await start(t, { fastPath: false });
    const a = await registerUser(env.http);
    assert.equal(env.app.sessiond.fastPath, undefined);
    for (let i = 0; i < 2; i++) assert.equal((await env.http.get(`/sessions/validate/${a.sessionId}`, { token: a.accessToken })).status, 200);
  });
});
