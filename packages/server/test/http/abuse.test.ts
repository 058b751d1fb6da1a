// test-tier: full (slow: 19 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultConfig } from '../../src/config.ts';
import { startApp } from '../helpers/app.ts';
import { isProblem, registerUser } from '../helpers/http.ts';

const limits = (overrides: Partial<typeof defaultConfig.rateLimit> = {}) => ({ rateLimit: { ...defaultConfig.rateLimit, enabled: true, ...overrides } });

describe('anti-automation', () => {
  test('per IP: sign-in attempts past the per-minute limit get 429 with Retry-After, then recover', async (t) => {
    const env = await startApp(t, 'sqlite', { config: limits({ perIpPerMinute: 5, failuresBeforeDelay: 1000 }) });
    assert.ok(env);
    const { http, clock } = env;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await http.post('/auth/login', { email: `nobody${i}@example.com`, password: 'whatever-password' })).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
    const limited = await http.post('/auth/login', { email: 'x@example.com', password: 'whatever-password' });
    assert.ok(isProblem(limited));
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    clock.advanceSeconds(retryAfter);
    assert.equal((await http.post('/auth/login', { email: 'x@example.com', password: 'whatever-password' })).status, 401);
  });

  test('per account: failures slow further attempts down, doubling, capped; the real user is never locked out for long', async (t) => {
    const env = await startApp(t, 'sqlite', { config: limits({ perIpPerMinute: 10_000, failuresBeforeDelay: 3, maxDelaySeconds: 8 }) });
    assert.ok(env);
    const { http, clock } = env;
    const victim = await registerUser(http);
    const attempt = (password: string) => http.post('/auth/login', { email: victim.email, password });
    for (let i = 0; i < 3; i++) assert.equal((await attempt('wrong-password')).status, 401);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const blocked = await attempt('wrong-password');
      assert.equal(blocked.status, 429);
      const wait = Number(blocked.headers.get('retry-after'));
      delays.push(wait);
      clock.advanceSeconds(wait);
      assert.equal((await attempt('wrong-password')).status, 401, 'after waiting, a guess is evaluated again');
    }
    assert.deepEqual(delays, [1, 2, 4, 8, 8, 8], 'doubling, capped at maxDelaySeconds');
    // the real user, after at most the cap, signs in; success clears the count
    clock.advanceSeconds(8);
    assert.equal((await attempt(victim.password)).status, 200);
    assert.equal((await attempt('wrong-password')).status, 401);
    assert.equal((await attempt('wrong-password')).status, 401, 'count was reset by the success');
  });

  test('an unknown email is throttled exactly like a known one (no enumeration through 429s)', async (t) => {
    const env = await startApp(t, 'sqlite', { config: limits({ perIpPerMinute: 10_000, failuresBeforeDelay: 2 }) });
    assert.ok(env);
    const { http } = env;
    const known = await registerUser(http);
    const run = async (email: string) => {
      const out: number[] = [];
      for (let i = 0; i < 4; i++) out.push((await http.post('/auth/login', { email, password: 'wrong-password' })).status);
      return out;
    };
    assert.deepEqual(await run(known.email), await run('nobody-here@example.com'));
  });

  test('refresh is limited per IP and per session', async (t) => {
    const env = await startApp(t, 'sqlite', { config: limits({ perIpPerMinute: 3 }) });
    assert.ok(env);
    const { http } = env;
    const a = await registerUser(http);
    let token = a.refreshToken;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await http.post('/auth/refresh', { refreshToken: token });
      statuses.push(r.status);
      if (r.status === 200) token = r.body.refreshToken;
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });

  test('RATE_LIMIT=off (the default in these tests) lets load through', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const results = await Promise.all(Array.from({ length: 80 }, () => env.http.post('/auth/login', { email: 'n@example.com', password: 'whatever-password' })));
    assert.ok(results.every((r) => r.status === 401));
  });
});

describe('HTTP hardening', () => {
  test('security headers on every response, errors included', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    for (const res of [await env.http.get('/health'), await env.http.get('/sessions'), await env.http.get('/nope')]) {
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      // API answers: the OWASP REST set (http/security-headers.ts); nothing may be cached or framed.
      assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.ok(res.headers.get('strict-transport-security'));
      assert.doesNotMatch(res.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/, 'plain-http deployments keep working');
      assert.equal(res.headers.get('referrer-policy'), null, 'not sent on JSON: no document navigates from it (http/security-headers.ts)');
      assert.equal(res.headers.get('access-control-allow-origin'), null, 'CORS is off by default');
    }
    const reg = await env.http.post('/auth/register', { email: 'h@example.com', password: 'long enough password' });
    assert.equal(reg.headers.get('cache-control'), 'no-store', 'token responses are not cacheable');
    // The API reference is an HTML document: helmet's page set (its scripts are same-origin), not the API's.
    const docs = await fetch(`${env.url}/docs/`);
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(docs.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(docs.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(docs.headers.get('cache-control'), null);
  });

  test('CORS answers only configured origins', async (t) => {
    const env = await startApp(t, 'sqlite', { config: { corsOrigins: ['https://app.example.com'] } });
    assert.ok(env);
    const allowed = await env.http.request('OPTIONS', '/sessions', { headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
    // DPoP clients (RFC 9449) send a DPoP header and must read DPoP-Nonce, the challenge and Date.
    const dpop = await env.http.request('OPTIONS', '/auth/refresh', { headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, dpop' } });
    assert.match(dpop.headers.get('access-control-allow-headers') ?? '', /\bdpop\b/);
    const answer = await env.http.post('/auth/refresh', { refreshToken: 'x'.repeat(40) }, { headers: { origin: 'https://app.example.com' } });
    assert.deepEqual((answer.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim()).filter((h) => ['dpop-nonce', 'www-authenticate', 'date'].includes(h)).sort(), ['date', 'dpop-nonce', 'www-authenticate']);
    const other = await env.http.request('OPTIONS', '/sessions', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  test('X-Forwarded-For is believed only from configured proxies', async (t) => {
    const direct = await startApp(t, 'sqlite');
    const proxied = await startApp(t, 'sqlite', { config: { trustProxy: ['127.0.0.1'] } });
    assert.ok(direct && proxied);
    const headers = { 'x-forwarded-for': '198.51.100.7' };
    const a = await direct.http.post('/auth/register', { email: 'p@example.com', password: 'long enough password' }, { headers });
    const b = await proxied.http.post('/auth/register', { email: 'p@example.com', password: 'long enough password' }, { headers });
    const ipOf = async (env: typeof direct, token: string) => (await env.http.get('/sessions', { token })).body.data[0].ipAddress;
    assert.equal(await ipOf(direct, a.body.accessToken), '127.0.0.1', 'spoofed header ignored without a trusted proxy');
    assert.equal(await ipOf(proxied, b.body.accessToken), '198.51.100.7');
  });

  test('overlong URLs get 414 problem details', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const res = await env.http.get(`/health?x=${'a'.repeat(3000)}`);
    assert.equal(res.status, 414);
    assert.ok(isProblem(res));
  });
});
