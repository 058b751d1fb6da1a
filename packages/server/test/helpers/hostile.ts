import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { AppDeps } from '../../src/app.ts';
import type { AppConfig } from '../../src/config.ts';
import { captureLogs } from './logs.ts';
import { startApp, type TestApp } from './app.ts';
import type { BackendName } from './backends.ts';
import { login, registerUser, type HttpClient, type HttpResult, type SignedIn } from './http.ts';
import { rawRequest } from './raw-http.ts';

/**
 * Helpers of the hostile-input suites (bad input, forged tokens, cross-user access): what a
 * correct refusal looks like, and how to show that a refused request changed nothing.
 */

/** The members an RFC 9457 problem of ours may carry; anything else (a stack, a SQL message) is a leak. */
const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance', 'errors']);
/** What a leaked stack trace or internal path looks like in a response body. */
const INTERNALS = /\n\s+at |node_modules|\.[cm]?[jt]s:\d+|SQLITE_|sqlite3|syntax error at or near/i;

/**
 * Asserts an RFC 9457 problem answer with the given status (or one of the given statuses):
 * `application/problem+json`, `type`, `title`, `detail`, `status` equal to the HTTP status, and
 * nothing internal in it. Returns the parsed body.
 */
export function assertProblem(res: HttpResult, status: number | number[], label = ''): Record<string, unknown> {
  const where = `${label ? `${label}: ` : ''}${res.status} ${res.text.slice(0, 300)}`;
  const statuses = Array.isArray(status) ? status : [status];
  assert.ok(statuses.includes(res.status), `expected ${statuses.join(' or ')}, got ${where}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `problem content type: ${where}`);
  const body = res.body as Record<string, unknown> | undefined;
  assert.ok(body && typeof body === 'object', `problem body is a JSON object: ${where}`);
  assert.equal(typeof body.type, 'string', `problem type: ${where}`);
  assert.equal(typeof body.title, 'string', `problem title: ${where}`);
  assert.equal(typeof body.detail, 'string', `problem detail: ${where}`);
  assert.equal(body.status, res.status, `problem status equals the HTTP status: ${where}`);
  for (const key of Object.keys(body)) assert.ok(PROBLEM_MEMBERS.has(key), `unexpected problem member "${key}": ${where}`);
  assert.doesNotMatch(res.text, INTERNALS, `no internals in the answer: ${where}`);
  return body;
}

/** A 401 problem that also tells the client to use a bearer token (RFC 6750 §3). */
export function assertUnauthorized(res: HttpResult, label = ''): Record<string, unknown> {
  const body = assertProblem(res, 401, label);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/, `${label}: WWW-Authenticate: Bearer`);
  return body;
}

/** What a user's sessions look like from the outside: the active ids (sorted) and the count. */
export interface SessionSnapshot {
  ids: string[];
  count: number;
}

/** Reads a user's active sessions with one of its own tokens (a read that changes nothing but lastActiveAt). */
export async function sessionSnapshot(http: HttpClient, user: Pick<SignedIn, 'accessToken'>): Promise<SessionSnapshot> {
  const list = await http.get('/sessions?limit=100', { token: user.accessToken });
  assert.equal(list.status, 200, `snapshot list: ${list.text}`);
  const count = await http.get('/sessions/count', { token: user.accessToken });
  assert.equal(count.status, 200, `snapshot count: ${count.text}`);
  return { ids: (list.body.data as Array<{ id: string }>).map((s) => s.id).sort(), count: count.body.count as number };
}

/** Asserts that a hostile request left the victim's sessions exactly as they were. */
export async function assertSessionsUnchanged(http: HttpClient, victim: Pick<SignedIn, 'accessToken'>, before: SessionSnapshot, label = '') {
  assert.deepEqual(await sessionSnapshot(http, victim), before, `${label}: the victim's sessions are unchanged`);
}

/** An operation of the API as the OpenAPI document lists it. */
export interface Operation {
  method: string;
  /** OpenAPI path template, e.g. /sessions/{sessionId} */
  template: string;
}

/** The OpenAPI security scheme of access tokens (JWT bearer). */
const ACCESS_TOKEN_SCHEME = 'JWT-auth';

/**
 * The operations protected by access tokens, read from the app's own OpenAPI document (those whose
 * `security` names the JWT scheme), so a route added later is covered by every "all protected
 * routes" table. Operations guarded by other schemes (operator keys) are not users' routes.
 */
export async function protectedOperations(http: HttpClient): Promise<Operation[]> {
  const doc = await http.get('/openapi.json');
  assert.equal(doc.status, 200);
  const out: Operation[] = [];
  for (const [template, item] of Object.entries(doc.body.paths as Record<string, Record<string, { security?: Array<Record<string, unknown>> }>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (op.security?.some((requirement) => ACCESS_TOKEN_SCHEME in requirement)) out.push({ method: method.toUpperCase(), template });
    }
  }
  // Guard against a vacuous table: these must be protected whatever else is added.
  const known = ['GET /auth/me', 'POST /auth/logout', 'GET /sessions', 'GET /sessions/count', 'DELETE /sessions', 'DELETE /sessions/{sessionId}', 'GET /sessions/validate/{sessionId}'];
  const listed = new Set(out.map((o) => `${o.method} ${o.template}`));
  for (const k of known) assert.ok(listed.has(k), `OpenAPI document lists ${k} as protected`);
  return out;
}

/** Fills an OpenAPI path template's parameters with one value. */
export const fillPath = (template: string, value: string) => template.replace(/\{[^}]+\}/g, value);

/**
 * Sends the same credentials to every protected operation (path parameters filled with
 * `sessionId`) and asserts each answers 401 with `WWW-Authenticate: Bearer`.
 */
export async function assertEveryOperationRefuses(
  http: HttpClient,
  operations: Operation[],
  options: { authorization?: string; sessionId: string; label: string },
) {
  for (const op of operations) {
    const headers: Record<string, string> = options.authorization === undefined ? {} : { authorization: options.authorization };
    const res = await rawRequest(http.baseUrl, op.method, fillPath(op.template, options.sessionId), { headers });
    assertUnauthorized(res, `${options.label}: ${op.method} ${op.template}`);
  }
}

/** A test app whose error-level log lines are kept: see startWatchedApp. */
export interface WatchedApp extends TestApp {
  /** Error-level log lines not yet attributed to a row by eachRow. */
  errorLog: string[];
}

/**
 * startApp with a logger that keeps error-level lines, failing the test if any is left at the end:
 * hostile requests must not make the server log an unhandled error (a 5xx hidden behind a 4xx, a
 * crash in a background task).
 */
export async function startWatchedApp(
  t: TestContext,
  backend: BackendName,
  options: { config?: Partial<AppConfig>; deps?: Partial<AppDeps> } = {},
): Promise<WatchedApp | undefined> {
  const { stream, chunks: errorLog } = captureLogs();
  // Registered before startApp's own teardown so it runs first (after hooks run in order): the
  // harness closes the database before the app, and a revocation-feed poll in that gap logs an
  // error that is the harness's, not the request's.
  t.after(() => assert.deepEqual(errorLog, [], 'the server logged no error'));
  const env = await startApp(t, backend, { config: options.config ?? {}, deps: { logger: { level: 'error', stream }, ...options.deps } });
  if (!env) return undefined;
  return { ...env, errorLog };
}

/** A fresh user (the victim) signed in on `devices` sessions, and a snapshot of its sessions. */
export async function newVictim(http: HttpClient, options: { devices?: number; email?: string } = {}): Promise<{ victim: SignedIn; before: SessionSnapshot }> {
  const victim = await registerUser(http, options.email === undefined ? {} : { email: options.email });
  for (let i = 1; i < (options.devices ?? 1); i++) await login(http, victim);
  return { victim, before: await sessionSnapshot(http, victim) };
}

/** One row of a table-driven suite; `todo` marks a known server bug (the row asserts the fix). */
export interface Row {
  name: string;
  todo?: string;
}

/**
 * Runs each row as its own subtest, in order, with a deadline: a hostile request that hangs the
 * server fails its row instead of stalling the file. With a watched app, an error the server logs
 * during a row fails that row (and is taken off the log, so a known bug marked todo stays local).
 */
export async function eachRow<R extends Row>(t: TestContext, watched: Pick<WatchedApp, 'errorLog'> | undefined, rows: R[], run: (row: R) => Promise<void>) {
  for (const row of rows) {
    await t.test(row.name, { todo: row.todo, timeout: 10_000 }, async () => {
      const logged = watched?.errorLog.length ?? 0;
      // Boxed, so that whatever was thrown (even a falsy value) is rethrown.
      let failure: { error: unknown } | undefined;
      try {
        await run(row);
      } catch (error) {
        failure = { error };
      }
      const errors = watched ? watched.errorLog.splice(logged) : [];
      if (failure) throw failure.error; // the row's own assertion says more than the log line
      assert.deepEqual(errors.map((line) => (JSON.parse(line) as { err?: { message?: string } }).err?.message ?? line), [], 'the server logged no error');
    });
  }
}
