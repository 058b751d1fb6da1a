// test-tier: full (slow: 11 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backendNames } from '../helpers/backends.ts';
import { assertProblem, startWatchedApp } from '../helpers/hostile.ts';
import { login, registerUser } from '../helpers/http.ts';

/**
 * NUL (U+0000) and control characters in every string a route takes (issue 12, item 7). PostgreSQL
 * text cannot hold NUL: before the fix a NUL in a sign-up name or a sign-in email reached a query
 * and answered 500 with a stack trace in the log, while SQLite answered 201/401. Now: a 400 problem
 * on both backends, and no error logged (startWatchedApp fails the test on any error line).
 */
const NUL = '\u0000';
const CONTROLS = [NUL, '\u0001', '\u001b', '\u007f', '\u0085'];

for (const backend of backendNames) {
  describe(`NUL and control characters (${backend})`, () => {
    test('sign-up and sign-in: NUL in the email or name, control characters in the email: 400, nothing stored', async (t) => {
      const env = await startWatchedApp(t, backend);
      if (!env) return;
      const { http } = env;
      const password = 'correct horse battery staple';
      for (const c of CONTROLS) {
        for (const email of [`ada${c}@example.com`, `ada@example.com${c}`, `${c}`]) {
          const label = `email with U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
          assertProblem(await http.post('/auth/register', { email, password }), 400, `register: ${label}`);
          assertProblem(await http.post('/auth/login', { email, password }), 400, `login: ${label}`);
        }
      }
      for (const name of [NUL, `Ada${NUL}`, `${NUL}Lovelace`]) {
        const res = await http.post('/auth/register', { email: `n${Date.now()}@example.com`, password, name });
        const body = assertProblem(res, 400, 'register: NUL in the name');
        assert.match(String(body.detail), /name/);
      }
      const admin = { 'x-admin-key': (await env.app.sessiond.adminKeys.create('t', env.clock.now())).secret };
      assert.equal((await http.get('/admin/stats', { headers: admin })).body.users, 0, 'nothing was stored');
      // A NUL in a password is a character like another: hashed, never stored as text.
      const user = await registerUser(http, { password: `pass${NUL}word with nul` });
      assert.equal((await http.post('/auth/login', { email: user.email, password: `pass${NUL}word with nul` })).status, 200);
      assertProblem(await http.post('/auth/login', { email: user.email, password: `pass${NUL}word with nu` }), 401, 'wrong password with NUL');
      // Names with ordinary characters (tabs included) still work.
      assert.equal((await http.post('/auth/register', { email: `tab${Date.now()}@example.com`, password, name: 'Ada\tLovelace' })).status, 201);
    });

    test('every other route taking strings: NUL answers a 4xx problem, never a 5xx', async (t) => {
      const env = await startWatchedApp(t, backend);
      if (!env) return;
      const { http } = env;
      const user = await registerUser(http);
      const spare = await login(http, user);
      const admin = { 'x-admin-key': (await env.app.sessiond.adminKeys.create('t', env.clock.now())).secret };
      const nul = encodeURIComponent(NUL);
      const token = user.accessToken;
      const cases: Array<[string, Promise<import('../helpers/http.ts').HttpResult>, number | number[]]> = [
        ['refresh token', http.post('/auth/refresh', { refreshToken: `${spare.refreshToken.slice(0, 10)}${NUL}` }), [400, 401]],
        ['change password: current', http.post('/auth/password', { currentPassword: `x${NUL}`, newPassword: 'a long new passphrase' }, { token }), 403],
        ['change password: new', http.post('/auth/password', { currentPassword: user.password, newPassword: `a long new${NUL} passphrase` }, { token }), [200, 400]],
        // The caller's own session: these requests run at once, and a password change that goes
        // through ends every other session (the spare's token would then be refused with 401).
        ['delete account: password', http.request('DELETE', '/auth/me', { token, body: { password: `x${NUL}` } }), 403],
        ['validate: session id', http.get(`/sessions/validate/${nul}`, { token }), 400],
        ['revoke: session id', http.delete(`/sessions/a${nul}`, { token }), 400],
        ['list: currentSessionId', http.get(`/sessions?currentSessionId=${nul}`, { token }), 400],
        ['revoke all: keepCurrent', http.delete(`/sessions?keepCurrent=${nul}`, { token }), 400],
        ['admin: find by email', http.get(`/admin/users?email=ada${nul}@example.com`, { headers: admin }), 400],
        ['admin: user id', http.get(`/admin/users/${nul}`, { headers: admin }), 400],
        ['admin: delete user id', http.delete(`/admin/users/${nul}`, { headers: admin }), 400],
        ['admin: user sessions status', http.get(`/admin/users/${user.userId}/sessions?status=${nul}`, { headers: admin }), 400],
        ['admin: session id', http.delete(`/admin/sessions/${nul}`, { headers: admin }), 400],
        ['admin: events type', http.get(`/admin/events?type=${nul}`, { headers: admin }), 400],
        ['admin: events user id', http.get(`/admin/events?userId=${nul}`, { headers: admin }), 400],
        ['admin key', http.get('/admin/stats', { headers: { 'x-admin-key': `sdk_admin_${nul}` } }), 401],
        ['unknown path', http.get(`/${nul}`), [400, 404]],
      ];
      for (const [label, pending, status] of cases) {
        const res = await pending;
        if (res.status < 400) assert.ok(Array.isArray(status) && status.includes(res.status), `${label}: ${res.status}`);
        else assertProblem(res, status, label);
      }
      assert.equal((await http.get('/auth/me', { token })).status, 200, 'the account is intact');
    });

    test('header text stored with a session (User-Agent, client address) is cleaned, never refused', async (t) => {
      const env = await startWatchedApp(t, backend);
      if (!env) return;
      const { http, app } = env;
      const user = await registerUser(http, { userAgent: 'Agent\twith tab' });
      // Node's HTTP parser already refuses NUL in headers; the service cleans whatever reaches it
      // from any source, so the store never sees a NUL (PostgreSQL would fail the sign-in).
      const { session } = await app.sessiond.sessions.create(user.userId, { ipAddress: `203.0.113.7${NUL}`, userAgent: `Mozilla/5.0${NUL} (X11; Linux x86_64)\u0007` }, 'password');
      const stored = await app.sessiond.database.db.selectFrom('sessions').select(['ip_address', 'user_agent']).where('id', '=', session.id).executeTakeFirstOrThrow();
      assert.ok(!stored.ip_address!.includes(NUL) && !stored.user_agent!.includes(NUL), JSON.stringify(stored));
      assert.equal(stored.user_agent, 'Mozilla/5.0\uFFFD (X11; Linux x86_64)\uFFFD');
      const list = await http.get('/sessions', { token: user.accessToken });
      assert.equal(list.status, 200);
      assert.ok(list.body.data.some((s: any) => s.userAgent === 'Agent\uFFFDwith tab'), 'control characters become U+FFFD');
    });
  });
}
