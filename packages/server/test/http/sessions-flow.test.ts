import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backendNames } from '../helpers/backends.ts';
import { startApp } from '../helpers/app.ts';
import { isProblem, login, registerUser } from '../helpers/http.ts';

const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

for (const backend of backendNames) {
  describe(`the whole flow over HTTP (${backend})`, () => {
    test('register, two more devices, list, count, revoke one, refresh, revoke all', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, clock } = env;

      const d1 = await registerUser(http, { userAgent: CHROME_MAC });
      clock.advanceSeconds(5);
      const d2 = await login(http, d1, SAFARI_IPHONE);
      clock.advanceSeconds(5);
      const d3 = await login(http, { email: d1.email.toUpperCase(), password: d1.password }); // emails are case-insensitive
      assert.equal(new Set([d1.sessionId, d2.sessionId, d3.sessionId]).size, 3, 'every sign-in is a new session');

      // list: three sessions, the caller's own marked current, newest activity first
      const list = await http.get('/sessions', { token: d2.accessToken });
      assert.equal(list.status, 200);
      assert.equal(list.body.data.length, 3);
      assert.deepEqual(list.body.meta, { page: 1, limit: 20, total: 3, totalPages: 1 });
      assert.deepEqual(list.body.data.filter((s: any) => s.isCurrent).map((s: any) => s.id), [d2.sessionId]);
      assert.deepEqual(list.body.data.map((s: any) => s.id), [d3.sessionId, d2.sessionId, d1.sessionId]);
      const iphone = list.body.data.find((s: any) => s.id === d2.sessionId);
      assert.equal(iphone.device.type, 'mobile');
      assert.match(iphone.device.os, /iOS/);
      assert.match(iphone.device.browser, /Safari/);
      assert.equal(iphone.ipAddress, '127.0.0.1');
      assert.equal(iphone.userAgent, SAFARI_IPHONE);
      for (const field of ['createdAt', 'lastActiveAt', 'expiresAt']) {
        assert.match(iphone[field], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
      const mac = list.body.data.find((s: any) => s.id === d1.sessionId);
      assert.equal(mac.device.type, 'desktop');
      assert.match(mac.device.browser, /^Chrome 120/);

      // currentSessionId overrides which one is marked current
      const marked = await http.get(`/sessions?currentSessionId=${d1.sessionId}`, { token: d2.accessToken });
      assert.deepEqual(marked.body.data.filter((s: any) => s.isCurrent).map((s: any) => s.id), [d1.sessionId]);

      const count = await http.get('/sessions/count', { token: d1.accessToken });
      assert.deepEqual([count.status, count.body], [200, { count: 3 }]);

      // revoke d3 from d1: d3's access token is refused on the very next request
      assert.equal((await http.get('/auth/me', { token: d3.accessToken })).status, 200);
      const revoked = await http.delete(`/sessions/${d3.sessionId}`, { token: d1.accessToken });
      assert.deepEqual([revoked.status, revoked.body], [200, { sessionId: d3.sessionId, revoked: true }]);
      const afterRevoke = await http.get('/auth/me', { token: d3.accessToken });
      assert.equal(afterRevoke.status, 401);
      assert.ok(isProblem(afterRevoke));
      assert.match(afterRevoke.headers.get('www-authenticate') ?? '', /^Bearer/);
      const v3 = await http.get(`/sessions/validate/${d3.sessionId}`, { token: d1.accessToken });
      assert.deepEqual(v3.body, { sessionId: d3.sessionId, valid: false, expiresAt: null });
      const v2 = await http.get(`/sessions/validate/${d2.sessionId}`, { token: d1.accessToken });
      assert.equal(v2.body.valid, true);
      assert.ok(Date.parse(v2.body.expiresAt) > clock.now());
      assert.equal((await http.get('/sessions/count', { token: d1.accessToken })).body.count, 2);
      // d3's refresh token cannot revive it
      assert.equal((await http.post('/auth/refresh', { refreshToken: d3.refreshToken })).status, 401);
      // revoking it again: 404
      assert.equal((await http.delete(`/sessions/${d3.sessionId}`, { token: d1.accessToken })).status, 404);

      // refresh rotates: same session, new tokens; the old refresh token no longer mints
      clock.advanceSeconds(60);
      const r1 = await http.post('/auth/refresh', { refreshToken: d2.refreshToken });
      assert.equal(r1.status, 200);
      assert.equal(r1.body.sessionId, d2.sessionId);
      assert.equal(r1.body.tokenType, 'Bearer');
      assert.equal(r1.body.expiresIn, 900);
      assert.notEqual(r1.body.refreshToken, d2.refreshToken);
      assert.notEqual(r1.body.accessToken, d2.accessToken);
      assert.equal((await http.get('/auth/me', { token: r1.body.accessToken })).body.sessionId, d2.sessionId);
      clock.advanceSeconds(60); // past the replay grace window
      assert.equal((await http.post('/auth/refresh', { refreshToken: d2.refreshToken })).status, 401);

      // revoke all: every token of every session is refused
      const all = await http.delete('/sessions', { token: d1.accessToken });
      assert.equal(all.status, 200);
      assert.ok(all.body.revokedCount >= 1);
      for (const token of [d1.accessToken, d2.accessToken, r1.body.accessToken, d3.accessToken]) {
        assert.equal((await http.get('/sessions/count', { token })).status, 401);
      }
    });

    test('pagination over 45 sessions', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http, clock } = env;
      const first = await registerUser(http);
      for (let i = 1; i < 45; i++) {
        clock.advance(1000);
        await login(http, first);
      }
      const seen = new Set<string>();
      const pages = [] as any[];
      for (let page = 1; page <= 3; page++) {
        const res = await http.get(`/sessions?page=${page}&limit=20`, { token: first.accessToken });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.meta, { page, limit: 20, total: 45, totalPages: 3 });
        pages.push(res.body.data);
        for (const s of res.body.data) seen.add(s.id);
      }
      assert.deepEqual(pages.map((p) => p.length), [20, 20, 5]);
      assert.equal(seen.size, 45, 'no session repeated or skipped across pages');
      const lastActive = pages.flat().map((s: any) => Date.parse(s.lastActiveAt));
      assert.deepEqual(lastActive, [...lastActive].sort((a, b) => b - a), 'most recently active first');
      const past = await http.get('/sessions?page=4&limit=20', { token: first.accessToken });
      assert.deepEqual([past.status, past.body.data, past.body.meta.total], [200, [], 45]);
      const strings = await http.get('/sessions?page=2&limit=45', { token: first.accessToken });
      assert.equal(strings.body.data.length, 0);
      assert.equal(strings.body.meta.totalPages, 1);
    });

    test('logout ends the current session only; me reports the user', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const { http } = env;
      const a = await registerUser(http);
      const b = await login(http, a);
      const me = await http.get('/auth/me', { token: a.accessToken });
      assert.equal(me.status, 200);
      assert.deepEqual(Object.keys(me.body).sort(), ['sessionId', 'user']);
      assert.equal(me.body.user.email, a.email);
      assert.equal(me.body.sessionId, a.sessionId);
      assert.equal(me.body.user.passwordHash, undefined);
      const out = await http.post('/auth/logout', undefined, { token: a.accessToken });
      assert.equal(out.status, 204);
      assert.equal(out.text, '');
      assert.equal((await http.get('/auth/me', { token: a.accessToken })).status, 401);
      assert.equal((await http.get('/auth/me', { token: b.accessToken })).status, 200);
      assert.equal((await http.post('/auth/refresh', { refreshToken: a.refreshToken })).status, 401);
    });
  });
}
