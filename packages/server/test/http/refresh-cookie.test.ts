// test-tier: full (slow: 7 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startApp } from '../helpers/app.ts';

const browser = { 'x-refresh-transport': 'cookie' };
const cookieOf = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith('sessiond_refresh='));
const valueOf = (setCookie: string) => setCookie.split(';')[0]!;

describe('browser transport: the refresh token in an HttpOnly cookie', () => {
  test('sign-in sets a HttpOnly, SameSite=Strict cookie scoped to /auth/refresh, and the body omits the token', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const reg = await env.http.post('/auth/register', { email: 'c@example.com', password: 'long enough password' }, { headers: browser });
    assert.equal(reg.status, 201);
    assert.equal(reg.body.refreshToken, undefined, 'page scripts never see the refresh token');
    assert.ok(reg.body.accessToken);
    const set = cookieOf(reg);
    assert.ok(set);
    assert.match(set, /; HttpOnly/i);
    assert.match(set, /; SameSite=Strict/i);
    assert.match(set, /; Path=\/auth\/refresh/);
    assert.doesNotMatch(set, /; Secure/i, 'plain http: no Secure flag (the browser would drop it)');
    // clients that do not ask for the cookie get the token in the body, as before
    const api = await env.http.post('/auth/login', { email: 'c@example.com', password: 'long enough password' });
    assert.ok(api.body.refreshToken);
    assert.equal(cookieOf(api), undefined);
  });

  test('Secure when served over https (behind a trusted proxy)', async (t) => {
    const env = await startApp(t, 'sqlite', { config: { trustProxy: ['127.0.0.1'] } });
    assert.ok(env);
    const reg = await env.http.post('/auth/register', { email: 's@example.com', password: 'long enough password' }, { headers: { ...browser, 'x-forwarded-proto': 'https' } });
    assert.match(cookieOf(reg) ?? '', /; Secure/i);
  });

  test('refresh with the cookie rotates it; the old cookie value is then used up', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const { http, clock } = env;
    const reg = await http.post('/auth/register', { email: 'r@example.com', password: 'long enough password' }, { headers: browser });
    const first = valueOf(cookieOf(reg)!);
    const refreshed = await http.post('/auth/refresh', {}, { headers: { ...browser, cookie: first } });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.refreshToken, undefined);
    assert.equal(refreshed.body.sessionId, reg.body.sessionId);
    const second = valueOf(cookieOf(refreshed)!);
    assert.notEqual(second, first);
    assert.equal((await http.get('/auth/me', { token: refreshed.body.accessToken })).status, 200);
    clock.advanceSeconds(11);
    const again = await http.post('/auth/refresh', {}, { headers: { ...browser, cookie: second } });
    assert.equal(again.status, 200);
  });

  test('CSRF: without the custom header, cross-site, or from another origin, the cookie is refused', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const { http } = env;
    const reg = await http.post('/auth/register', { email: 'x@example.com', password: 'long enough password' }, { headers: browser });
    const cookie = valueOf(cookieOf(reg)!);
    const attempts = [
      { cookie }, // a cross-site form post cannot add the header
      { ...browser, cookie, 'sec-fetch-site': 'cross-site' },
      { ...browser, cookie, origin: 'https://evil.example' },
    ];
    for (const headers of attempts) {
      const res = await http.post('/auth/refresh', {}, { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
    }
    const sameOrigin = await http.post('/auth/refresh', {}, { headers: { ...browser, cookie, origin: http.baseUrl, 'sec-fetch-site': 'same-origin' } });
    assert.equal(sameOrigin.status, 200, 'the refused attempts did not use up or end the session');
  });

  test('logout clears the cookie; a refresh with a dead cookie clears it too', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const { http } = env;
    const reg = await http.post('/auth/register', { email: 'l@example.com', password: 'long enough password' }, { headers: browser });
    const cookie = valueOf(cookieOf(reg)!);
    const out = await http.post('/auth/logout', undefined, { token: reg.body.accessToken });
    assert.equal(out.status, 204);
    assert.match(cookieOf(out) ?? '', /Expires=Thu, 01 Jan 1970|Max-Age=0/);
    const reg2 = await http.post('/auth/register', { email: 'l2@example.com', password: 'long enough password' }, { headers: browser });
    const everywhere = await http.delete('/sessions', { token: reg2.body.accessToken });
    assert.match(cookieOf(everywhere) ?? '', /Expires=Thu, 01 Jan 1970|Max-Age=0/, 'sign out everywhere clears it too');
    const kept = await http.post('/auth/login', { email: 'l2@example.com', password: 'long enough password' });
    assert.equal(cookieOf(await http.delete('/sessions?keepCurrent=true', { token: kept.body.accessToken })), undefined, 'keepCurrent keeps it');
    const dead = await http.post('/auth/refresh', {}, { headers: { ...browser, cookie } });
    assert.equal(dead.status, 401);
    assert.match(cookieOf(dead) ?? '', /Expires=Thu, 01 Jan 1970|Max-Age=0/);
  });
});
