// test-tier: full (slow: 17 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { backendNames } from '../helpers/backends.ts';
import {
  assertProblem,
  assertSessionsUnchanged,
  assertUnauthorized,
  eachRow,
  newVictim,
  fillPath,
  protectedOperations,
  startWatchedApp,
  type Row,
} from '../helpers/hostile.ts';
import { login, registerUser, type HttpClient } from '../helpers/http.ts';
import { rawRequest } from '../helpers/raw-http.ts';

// Bad input of every kind, over real HTTP: each row asserts the refusal (an RFC 9457 problem with
// the right status, never a 5xx, a hang or a stack trace) and that the request changed nothing.

const GOOD_PASSWORD = 'correct horse battery staple';
const JSON_TYPE = { 'content-type': 'application/json' };
let emailCounter = 0;
const freshEmail = () => `bad-input-${Date.now()}-${emailCounter++}@example.com`;


interface BodyRow extends Row {
  /** The request body for a case whose only valid-looking email is `email`: an object (sent as JSON) or raw text. */
  body: (email: string) => unknown;
  raw?: boolean;
  headers?: Record<string, string>;
  status: number;
}

/** Sends a body row to `path`: JSON objects through fetch, raw text and odd framing through node:http. */
function sendBody(http: HttpClient, path: string, row: BodyRow, email: string) {
  const body = row.body(email);
  if (!row.raw) return http.post(path, body, { headers: row.headers ?? {} });
  const chunks = Array.isArray(body) ? (body as string[]).map((c) => Buffer.from(c)) : Buffer.from(body as string);
  return rawRequest(http.baseUrl, 'POST', path, { headers: row.headers ?? {}, body: chunks });
}

/** Bodies that no JSON endpoint may accept, whatever its schema: framing, media type and size. */
const transportRows = (ok: (email: string) => Record<string, unknown>): BodyRow[] => [
  { name: 'malformed JSON', raw: true, headers: JSON_TYPE, body: () => '{"email": "x@example.com", "password": ', status: 400 },
  { name: 'empty body declared as JSON', raw: true, headers: JSON_TYPE, body: () => '', status: 400 },
  { name: 'JSON null', raw: true, headers: JSON_TYPE, body: () => 'null', status: 400 },
  { name: 'JSON array', raw: true, headers: JSON_TYPE, body: (e) => JSON.stringify([ok(e)]), status: 400 },
  { name: 'JSON string', raw: true, headers: JSON_TYPE, body: (e) => JSON.stringify(JSON.stringify(ok(e))), status: 400 },
  { name: '__proto__ key (prototype pollution)', raw: true, headers: JSON_TYPE, body: (e) => `{"__proto__":{"admin":true},${JSON.stringify(ok(e)).slice(1)}`, status: 400 },
  { name: 'text/plain body', raw: true, headers: { 'content-type': 'text/plain' }, body: (e) => JSON.stringify(ok(e)), status: 415 },
  { name: 'form-urlencoded body', raw: true, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: (e) => new URLSearchParams(ok(e) as Record<string, string>).toString(), status: 415 },
  { name: 'XML body', raw: true, headers: { 'content-type': 'application/xml' }, body: () => '<user><email>x@example.com</email></user>', status: 415 },
  { name: 'body without a content type', raw: true, body: (e) => JSON.stringify(ok(e)), status: 415 },
  { name: 'body over 16 KiB (content-length)', raw: true, headers: JSON_TYPE, body: (e) => JSON.stringify({ ...ok(e), pad: 'x'.repeat(17 * 1024) }), status: 413 },
  { name: 'body over 16 KiB (chunked, no content-length)', raw: true, headers: JSON_TYPE, body: (e) => [JSON.stringify({ ...ok(e), pad: 'x'.repeat(17 * 1024) }).slice(0, -1), ',"more":1}'], status: 413 },
];

const registerRows: BodyRow[] = [
  { name: 'password of 7 characters', body: (email) => ({ email, password: '1234567' }), status: 400 },
  { name: 'empty password', body: (email) => ({ email, password: '' }), status: 400 },
  { name: 'blank password of 8 spaces', body: (email) => ({ email, password: '        ' }), status: 400 },
  { name: 'password equal to the email', body: (email) => ({ email, password: email.toUpperCase() }), status: 400 },
  { name: 'password over 128 characters', body: (email) => ({ email, password: 'p'.repeat(129) }), status: 400 },
  { name: 'password over 1024 characters', body: (email) => ({ email, password: 'p'.repeat(1025) }), status: 400 },
  { name: 'missing password', body: (email) => ({ email }), status: 400 },
  { name: 'missing email', body: () => ({ password: GOOD_PASSWORD }), status: 400 },
  { name: 'empty object', body: () => ({}), status: 400 },
  { name: 'email without @', body: () => ({ email: 'not-an-email', password: GOOD_PASSWORD }), status: 400 },
  { name: 'email with a space', body: () => ({ email: 'a b@example.com', password: GOOD_PASSWORD }), status: 400 },
  { name: 'email with SQL injection', body: () => ({ email: "' OR 1=1--@example.com", password: GOOD_PASSWORD }), status: 400 },
  { name: 'email over 254 characters', body: () => ({ email: `${'a'.repeat(250)}@example.com`, password: GOOD_PASSWORD }), status: 400 },
  { name: 'empty name', body: (email) => ({ email, password: GOOD_PASSWORD, name: '' }), status: 400 },
  { name: 'name over 200 characters', body: (email) => ({ email, password: GOOD_PASSWORD, name: 'n'.repeat(201) }), status: 400 },
  { name: 'email as an object (NoSQL operator)', body: () => ({ email: { $ne: null }, password: GOOD_PASSWORD }), status: 400 },
  { name: 'password as an object', body: (email) => ({ email, password: { $gt: '' } }), status: 400 },
  { name: 'password null', body: (email) => ({ email, password: null }), status: 400 },
  { name: 'password true', body: (email) => ({ email, password: true }), status: 400 },
  { name: 'password as a number', body: (email) => ({ email, password: 123456789 }), status: 400 },
  { name: 'password as a one-element array', body: (email) => ({ email, password: [GOOD_PASSWORD] }), status: 400 },
  { name: 'email as a one-element array', body: (email) => ({ email: [email], password: GOOD_PASSWORD }), status: 400 },
  ...transportRows((email) => ({ email, password: GOOD_PASSWORD })),
];

/** Asserts that no account exists for the email: registering it now succeeds. */
async function assertEmailFree(http: HttpClient, email: string) {
  const res = await http.post('/auth/register', { email, password: GOOD_PASSWORD });
  assert.equal(res.status, 201, `no account was created for ${email}: ${res.text}`);
}

/** Malformed session ids, as they appear in the URL path (already percent-encoded where needed). */
interface IdRow extends Row {
  id: (own: string) => string;
  /** With a valid token. */
  status: number | number[];
  /** Without a token: 401 (authentication first) unless the router refuses the URL before any route runs. */
  anonymous?: number[];
}

const idRows: IdRow[] = [
  { name: 'UUID without dashes', id: (own) => own.replaceAll('-', ''), status: 400 },
  { name: 'UUID in braces', id: (own) => encodeURIComponent(`{${own}}`), status: 400 },
  { name: 'UUID with a trailing space', id: (own) => `${own}%20`, status: 400 },
  { name: 'UUID twice', id: (own) => own + own, status: 400 },
  { name: 'UUID followed by an SQL condition', id: (own) => encodeURIComponent(`${own}' OR '1'='1`), status: 400 },
  { name: 'not a UUID', id: () => 'not-a-uuid', status: 400 },
  { name: 'integer', id: () => '1', status: 400 },
  { name: 'SQL injection', id: () => encodeURIComponent("' OR 1=1--"), status: 400 },
  { name: 'SQL injection with a statement', id: () => encodeURIComponent("x'; DROP TABLE sessions;--"), status: 400 },
  { name: 'NoSQL operator', id: () => encodeURIComponent('{"$ne":null}'), status: 400 },
  { name: 'path traversal (encoded slashes)', id: () => '..%2F..%2Fetc%2Fpasswd', status: 400 },
  { name: 'NUL byte', id: () => '%00', status: 400 },
  { name: 'unicode', id: () => encodeURIComponent('séssion-😀-ид'), status: 400 },
  // Past the 2048-character request-target limit, 414 (URI too long) is as right as 400.
  { name: 'a 10 KB string', id: () => 'a'.repeat(10 * 1024), status: [400, 414], anonymous: [400, 401, 414] },
  { name: 'a 201-character string (just over the router limit)', id: () => 'a'.repeat(201), status: 400, anonymous: [400, 401] },
  {
    name: 'malformed percent-encoding',
    id: () => '%E0%A4%A',
    status: 400,
    anonymous: [400, 401],
  },
];

/** Query strings of GET /sessions. */
const badQueries: Array<Row & { query: string }> = [
  ...['page=0', 'page=-1', 'page=1.5', 'page=abc', 'page=', 'page=99999999999999999999', 'page=1000001', 'page=1&page=2', 'page=NaN',
    'limit=0', 'limit=-1', 'limit=1.5', 'limit=abc', 'limit=', 'limit=101', 'limit=99999999999999999999', 'limit=null', 'limit=true',
    'currentSessionId=not-a-uuid', `currentSessionId=${encodeURIComponent("' OR 1=1--")}`].map((query) => ({ name: `?${query}`, query })),
  ...['page=Infinity', 'page=-Infinity', 'limit=Infinity', 'limit=-Infinity'].map((query) => ({ name: `?${query}`, query })),
];
const goodQueries: Array<[query: string, page: number, limit: number]> = [
  ['', 1, 20], ['page=1', 1, 20], ['limit=1', 1, 1], ['limit=100', 1, 100], ['page=2&limit=1', 2, 1], ['page=1000000', 1000000, 20], ['page=1&limit=20&unknown=1', 1, 20],
];

/** Methods the API does not define on paths it does. */
const wrongMethods: Array<[method: string, template: string]> = [
  ['PUT', '/sessions'], ['PATCH', '/sessions'], ['POST', '/sessions'], ['PUT', '/sessions/{id}'], ['PATCH', '/sessions/{id}'],
  ['POST', '/sessions/{id}'], ['POST', '/sessions/count'], ['POST', '/sessions/validate/{id}'], ['DELETE', '/sessions/validate/{id}'],
  ['GET', '/auth/login'], ['GET', '/auth/register'], ['PUT', '/auth/me'], ['DELETE', '/auth/me'], ['GET', '/auth/logout'], ['DELETE', '/auth/refresh'],
];

for (const backend of backendNames) {
  // One app (and database) per backend for the whole file, for speed: every concern below makes
  // its own users, so no subtest depends on another's leftovers.
  test(`bad input is refused with problem details (${backend})`, async (t) => {
    const env = await startWatchedApp(t, backend);
    if (!env) return;
    const { http } = env;

    await t.test('register: bad bodies are 400/413/415 and create no account', async (t) => {
      await eachRow(t, env, registerRows, async (row) => {
        const email = freshEmail();
        assertProblem(await sendBody(http, '/auth/register', row, email), row.status, row.name);
        await assertEmailFree(http, email);
      });
    });

    await t.test('register: a taken email, in any case, is 409 and changes nothing', async (t) => {
      const { victim, before } = await newVictim(http, { email: `Victim.${Date.now()}@Example.com` });
      const attackerPassword = 'attacker password 123';
      const variants = [victim.email, victim.email.toLowerCase(), victim.email.toUpperCase()];
      await eachRow(t, env, variants.map((email) => ({ name: email, email })), async ({ email }) => {
        const res = await http.post('/auth/register', { email, password: attackerPassword });
        assertProblem(res, 409, email);
        assertProblem(await http.post('/auth/login', { email: victim.email, password: attackerPassword }), 401, 'the attacker password does not sign in');
        await assertSessionsUnchanged(http, victim, before, email);
      });
      assert.equal((await login(http, victim)).userId, victim.userId, 'the victim still signs in with their own password');
    });

    await t.test('login: wrong email and wrong password answer the same 401; bad bodies are 400', async (t) => {
      const { victim, before } = await newVictim(http);

      const wrongEmail = await http.post('/auth/login', { email: `nobody-${Date.now()}@example.com`, password: victim.password });
      const wrongPassword = await http.post('/auth/login', { email: victim.email, password: 'not the password' });
      const upperWrongPassword = await http.post('/auth/login', { email: victim.email.toUpperCase(), password: 'not the password' });
      for (const res of [wrongEmail, wrongPassword, upperWrongPassword]) assertProblem(res, 401);
      assert.equal(wrongEmail.text, wrongPassword.text, 'the same body: the answer does not tell which emails exist');
      assert.equal(wrongEmail.text, upperWrongPassword.text);
      assert.equal(wrongEmail.headers.get('www-authenticate'), wrongPassword.headers.get('www-authenticate'));
      assert.equal(wrongEmail.headers.get('content-length'), wrongPassword.headers.get('content-length'));

      const loginRows: BodyRow[] = [
        { name: 'missing password', body: () => ({ email: victim.email }), status: 400 },
        { name: 'missing email', body: () => ({ password: victim.password }), status: 400 },
        { name: 'empty object', body: () => ({}), status: 400 },
        { name: 'email as an object (NoSQL operator)', body: () => ({ email: { $ne: null }, password: victim.password }), status: 400 },
        { name: 'password as an object (NoSQL operator)', body: () => ({ email: victim.email, password: { $ne: null } }), status: 400 },
        { name: 'email over 254 characters', body: () => ({ email: `${'a'.repeat(250)}@example.com`, password: victim.password }), status: 400 },
        { name: 'password over 1024 characters', body: () => ({ email: victim.email, password: 'p'.repeat(1025) }), status: 400 },
        { name: 'email with SQL injection', body: () => ({ email: "' OR 1=1--", password: "' OR 1=1--" }), status: 401 },
        { name: 'password as a number', body: () => ({ email: victim.email, password: 12345678 }), status: 400 },
        ...transportRows(() => ({ email: victim.email, password: victim.password })),
      ];
      await eachRow(t, env, loginRows, async (row) => {
        assertProblem(await sendBody(http, '/auth/login', row, victim.email), row.status, row.name);
        await assertSessionsUnchanged(http, victim, before, row.name);
      });
    });

    await t.test('refresh: unknown, malformed, forged, revoked and garbage tokens are 401 and revoke nothing', async (t) => {
      const { victim, before } = await newVictim(http);
      const other = await registerUser(http);
      const loggedOut = await login(http, victim);
      assert.equal((await http.post('/auth/logout', undefined, { token: loggedOut.accessToken })).status, 204);
      const mac = (token: string) => token.split('.')[2]!;
      const randomMac = () => crypto.randomBytes(32).toString('base64url');

      const tokenRows: Array<Row & { token: unknown; status: number }> = [
        { name: 'garbage', token: 'garbage', status: 401 },
        { name: 'unknown session, well-formed', token: `${crypto.randomUUID()}.0.${randomMac()}`, status: 401 },
        { name: "the victim's session with a made-up MAC", token: `${victim.sessionId}.0.${randomMac()}`, status: 401 },
        { name: "the victim's session with another user's MAC", token: `${victim.sessionId}.0.${mac(other.refreshToken)}`, status: 401 },
        { name: "the victim's session, next generation, current MAC", token: `${victim.sessionId}.1.${mac(victim.refreshToken)}`, status: 401 },
        { name: 'uppercase session id', token: victim.refreshToken.replace(victim.sessionId, victim.sessionId.toUpperCase()), status: 401 },
        { name: 'truncated', token: victim.refreshToken.slice(0, -1), status: 401 },
        { name: 'malformed generation', token: `${victim.sessionId}.x.${mac(victim.refreshToken)}`, status: 401 },
        { name: 'negative generation', token: `${victim.sessionId}.-1.${mac(victim.refreshToken)}`, status: 401 },
        { name: 'revoked (signed out) session', token: loggedOut.refreshToken, status: 401 },
        { name: 'an access token', token: victim.accessToken, status: 401 },
        { name: 'SQL injection', token: "' OR 1=1--", status: 401 },
        { name: 'empty string', token: '', status: 400 },
        { name: 'over 512 characters', token: 'r'.repeat(513), status: 400 },
        { name: 'NoSQL operator object', token: { $ne: null }, status: 400 },
        { name: 'a number', token: 12345, status: 400 },
      ];
      const refreshRows: BodyRow[] = [
        ...tokenRows.map(({ token, ...row }) => ({ ...row, body: () => ({ refreshToken: token }) })),
        // The body may omit the token (browsers send it in the HttpOnly cookie); with neither there is no credential: 401.
        { name: 'no refresh token in the body or a cookie', body: () => ({}), status: 401 },
        ...transportRows(() => ({ refreshToken: victim.refreshToken })),
      ];
      await eachRow(t, env, refreshRows, async (row) => {
        assertProblem(await sendBody(http, '/auth/refresh', row, ''), row.status, row.name);
        await assertSessionsUnchanged(http, victim, before, row.name);
      });
      // No forgery was mistaken for a reuse of the victim's token (which would revoke the session): its own still rotates.
      const rotated = await http.post('/auth/refresh', { refreshToken: victim.refreshToken });
      assert.equal(rotated.status, 200, rotated.text);
      assert.equal(rotated.body.sessionId, victim.sessionId);
    });

    await t.test('GET /sessions: bad page, limit and currentSessionId are 400; good ones 200', async (t) => {
      const user = await registerUser(http);
      await eachRow(t, env, badQueries, async ({ query }) => {
        const res = await http.get(`/sessions?${query}`, { token: user.accessToken });
        const problem = assertProblem(res, 400, query);
        assert.ok(Array.isArray(problem.errors) && problem.errors.length > 0, `${query}: names the failing input`);
      });
      await eachRow(t, env, goodQueries.map(([query, page, limit]) => ({ name: `?${query}`, query, page, limit })), async ({ query, page, limit }) => {
        const res = await http.get(`/sessions?${query}`, { token: user.accessToken });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body.meta, { page, limit, total: 1, totalPages: 1 });
        assert.equal(res.body.data.length, page === 1 ? 1 : 0);
      });
    });

    await t.test('malformed session ids: 400 with a token, 401 without; an empty id is no route; nothing revoked', async (t) => {
      const { victim, before } = await newVictim(http, { devices: 2 });
      for (const prefix of ['DELETE /sessions/', 'GET /sessions/validate/']) {
        const [method, path] = prefix.split(' ') as [string, string];
        await eachRow(t, env, idRows.map((row) => ({ ...row, name: `${prefix}{${row.name}}` })), async (row) => {
          const url = path + row.id(victim.sessionId);
          assertProblem(await rawRequest(http.baseUrl, method, url, { headers: { authorization: `Bearer ${victim.accessToken}` } }), row.status, `${row.name} with a token`);
          const anonymous = await rawRequest(http.baseUrl, method, url);
          if (row.anonymous) assertProblem(anonymous, row.anonymous, `${row.name} without a token`);
          else assertUnauthorized(anonymous, `${row.name} without a token`);
          await assertSessionsUnchanged(http, victim, before, row.name);
        });
      }

      // An empty id is no route (404; 400 would do) and never means "all sessions": a client that
      // builds `DELETE /sessions/${id}` with an empty id must not sign the user out everywhere.
      // The buggy row goes last: while the bug stands, it revokes the victim's sessions.
      const emptyIdRows: Array<Row & { method: string; path: string }> = [
        { name: 'GET /sessions/validate/', method: 'GET', path: '/sessions/validate/' },
        { name: 'GET /sessions/validate//', method: 'GET', path: '/sessions/validate//' },
        { name: 'DELETE /sessions//', method: 'DELETE', path: '/sessions//' },
        {
          name: 'DELETE /sessions/',
          method: 'DELETE',
          path: '/sessions/',
        },
      ];
      await eachRow(t, env, emptyIdRows, async (row) => {
        const res = await rawRequest(http.baseUrl, row.method, row.path, { headers: { authorization: `Bearer ${victim.accessToken}` } });
        assertProblem(res, [400, 404], row.name);
        await assertSessionsUnchanged(http, victim, before, row.name);
      });
    });

    await t.test('methods the API does not define are a 4xx problem, with or without a token', async (t) => {
      const { victim, before } = await newVictim(http);
      await eachRow(t, env, wrongMethods.map(([method, template]) => ({ name: `${method} ${template}`, method, path: fillPath(template, victim.sessionId) })), async (row) => {
        for (const headers of [{ authorization: `Bearer ${victim.accessToken}` }, {}] as Array<Record<string, string>>) {
          const res = await rawRequest(http.baseUrl, row.method, row.path, { headers: { ...headers, ...JSON_TYPE }, body: '{}' });
          assertProblem(res, [400, 401, 404, 405], row.name);
        }
        await assertSessionsUnchanged(http, victim, before, row.name);
      });
    });

    await t.test('authentication comes first: without a valid token every protected route is 401, whatever else is wrong', async (t) => {
      const { victim, before } = await newVictim(http);
      const wrongs: Array<{ name: string; id: string; query?: string; headers?: Record<string, string>; body?: string }> = [
        { name: 'nothing else', id: victim.sessionId },
        { name: 'malformed session id', id: encodeURIComponent("' OR 1=1--") },
        { name: 'uppercase session id', id: victim.sessionId.toUpperCase() },
        { name: 'bad query', id: victim.sessionId, query: '?page=abc&limit=0&currentSessionId=x' },
        { name: 'malformed JSON body', id: victim.sessionId, headers: JSON_TYPE, body: '{"oops' },
        { name: 'body over 16 KiB', id: victim.sessionId, headers: JSON_TYPE, body: JSON.stringify({ pad: 'x'.repeat(17 * 1024) }) },
        { name: 'unsupported content type', id: victim.sessionId, headers: { 'content-type': 'application/xml' }, body: '<x/>' },
      ];
      const credentials: Array<[name: string, headers: Record<string, string>]> = [
        ['no token', {}],
        ['garbage token', { authorization: 'Bearer garbage' }],
        ['Basic credentials', { authorization: `Basic ${Buffer.from(`${victim.email}:${victim.password}`).toString('base64')}` }],
      ];
      const rows = (await protectedOperations(http)).flatMap((op) =>
        wrongs.flatMap((wrong) => credentials.map(([who, auth]) => ({ name: `${op.method} ${op.template}: ${who}, ${wrong.name}`, op, wrong, auth }))),
      );
      await eachRow(t, env, rows, async ({ name, op, wrong, auth }) => {
        const path = fillPath(op.template, wrong.id) + (wrong.query ?? '');
        const res = await rawRequest(http.baseUrl, op.method, path, { headers: { ...wrong.headers, ...auth }, ...(wrong.body === undefined ? {} : { body: wrong.body }) });
        assertUnauthorized(res, name);
      });
      await assertSessionsUnchanged(http, victim, before);
    });
  });
}
