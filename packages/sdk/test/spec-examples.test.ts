// The five examples of shared/spec/SessionsApi.md, copied as they are but for the import path, the
// basePath and real values in place of the placeholders (currentSessionId_example, …), run against
// a really listening service. console.log/error are captured (the examples report through them) so
// each test can check what the example printed is what the service promises.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { login, registerUser } from '../../server/test/helpers/http.ts';
import {
  Configuration,
  SessionsApi,
} from '../src/index.ts';
// The document imports a request type in every example, also where the operation takes none.
import type {
  SessionControllerGetActiveSessionsRequest,
  SessionControllerGetSessionCountRequest,
  SessionControllerRevokeAllSessionsRequest,
  SessionControllerRevokeSessionRequest,
  SessionControllerValidateSessionRequest,
  SessionCount,
  SessionList,
  RevokeAllResult,
  RevokeResult,
  SessionValidation,
} from '../src/index.ts';
// Those two operations take no parameters, so no example uses its (empty) request type: naming them
// here keeps the document's imports compiling (typecheck fails if the SDK stops exporting them).
export type _ImportedByTheDocument = [SessionControllerGetSessionCountRequest, SessionControllerRevokeAllSessionsRequest];

/** A service with one user signed in on two devices; `first` is the caller of the examples. */
async function twoDevices(t: TestContext) {
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const first = await registerUser(env.http, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0' });
  env.clock.advanceSeconds(5);
  const second = await login(env.http, first, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Version/17.1 Mobile/15E148 Safari/604.1');
  return { env, first, second };
}

/** What an example printed: console.log's second call is the `data` it received; console.error must stay silent. */
function captureConsole(t: TestContext) {
  const log = t.mock.method(console, 'log', () => {});
  const error = t.mock.method(console, 'error', () => {});
  return {
    data<T>(): T {
      assert.deepEqual(error.mock.calls.map((c) => c.arguments), [], 'the example reported an error');
      assert.equal(log.mock.callCount(), 2);
      return log.mock.calls[1]!.arguments[0] as T;
    },
  };
}

test('sessionControllerGetActiveSessions: the caller’s sessions, with currentSessionId marked current', async (t) => {
  const { env, first, second } = await twoDevices(t);
  const printed = captureConsole(t);
  const currentSessionId_example = second.sessionId;
  const page_example = '1';
  const limit_example = '20';

  async function example() {
    console.log("ðŸš€ Testing  SDK...");
    const config = new Configuration({ 
      basePath: env.url,
      // Configure HTTP bearer authorization: JWT-auth
      accessToken: first.accessToken,
    });
    const api = new SessionsApi(config);

    const body = {
      // string
      currentSessionId: currentSessionId_example,
      // string
      page: page_example,
      // string
      limit: limit_example,
    } satisfies SessionControllerGetActiveSessionsRequest;

    try {
      const data = await api.sessionControllerGetActiveSessions(body);
      console.log(data);
    } catch (error) {
      console.error(error);
    }
  }

  // Run the test
  await example().catch(console.error);

  const data = printed.data<SessionList>();
  assert.deepEqual(data.meta, { page: 1, limit: 20, total: 2, totalPages: 1 });
  assert.deepEqual(data.data.map((s) => s.id), [second.sessionId, first.sessionId], 'most recently active first');
  assert.deepEqual(data.data.filter((s) => s.isCurrent).map((s) => s.id), [second.sessionId]);
  assert.equal(data.data[0]!.device.type, 'mobile');
  assert.equal(data.data[1]!.device.type, 'desktop');
});

test('sessionControllerGetSessionCount: the number of active sessions', async (t) => {
  const { env, first } = await twoDevices(t);
  const printed = captureConsole(t);

  async function example() {
    console.log("ðŸš€ Testing  SDK...");
    const config = new Configuration({ 
      basePath: env.url,
      // Configure HTTP bearer authorization: JWT-auth
      accessToken: first.accessToken,
    });
    const api = new SessionsApi(config);

    try {
      const data = await api.sessionControllerGetSessionCount();
      console.log(data);
    } catch (error) {
      console.error(error);
    }
  }

  // Run the test
  await example().catch(console.error);

  assert.deepEqual(printed.data<SessionCount>(), { count: 2 });
});

test('sessionControllerRevokeAllSessions: every session ends, the caller’s own included', async (t) => {
  const { env, first, second } = await twoDevices(t);
  const printed = captureConsole(t);

  async function example() {
    console.log("ðŸš€ Testing  SDK...");
    const config = new Configuration({ 
      basePath: env.url,
      // Configure HTTP bearer authorization: JWT-auth
      accessToken: first.accessToken,
    });
    const api = new SessionsApi(config);

    try {
      const data = await api.sessionControllerRevokeAllSessions();
      console.log(data);
    } catch (error) {
      console.error(error);
    }
  }

  // Run the test
  await example().catch(console.error);

  assert.deepEqual(printed.data<RevokeAllResult>(), { revokedCount: 2 });
  for (const token of [first.accessToken, second.accessToken]) {
    assert.equal((await env.http.get('/auth/me', { token })).status, 401);
  }
});

test('sessionControllerRevokeSession: the revoked session’s token is refused on its next request', async (t) => {
  const { env, first, second } = await twoDevices(t);
  const printed = captureConsole(t);
  const sessionId_example = second.sessionId;
  assert.equal((await env.http.get('/auth/me', { token: second.accessToken })).status, 200);

  async function example() {
    console.log("ðŸš€ Testing  SDK...");
    const config = new Configuration({ 
      basePath: env.url,
      // Configure HTTP bearer authorization: JWT-auth
      accessToken: first.accessToken,
    });
    const api = new SessionsApi(config);

    const body = {
      // string
      sessionId: sessionId_example,
    } satisfies SessionControllerRevokeSessionRequest;

    try {
      const data = await api.sessionControllerRevokeSession(body);
      console.log(data);
    } catch (error) {
      console.error(error);
    }
  }

  // Run the test
  await example().catch(console.error);

  assert.deepEqual(printed.data<RevokeResult>(), { sessionId: second.sessionId, revoked: true });
  assert.equal((await env.http.get('/auth/me', { token: second.accessToken })).status, 401);
  assert.equal((await env.http.get('/auth/me', { token: first.accessToken })).status, 200, 'the other session lives on');
});

test('sessionControllerValidateSession: an active session is valid until its expiry', async (t) => {
  const { env, first, second } = await twoDevices(t);
  const printed = captureConsole(t);
  const sessionId_example = second.sessionId;

  async function example() {
    console.log("ðŸš€ Testing  SDK...");
    const config = new Configuration({ 
      basePath: env.url,
      // Configure HTTP bearer authorization: JWT-auth
      accessToken: first.accessToken,
    });
    const api = new SessionsApi(config);

    const body = {
      // string
      sessionId: sessionId_example,
    } satisfies SessionControllerValidateSessionRequest;

    try {
      const data = await api.sessionControllerValidateSession(body);
      console.log(data);
    } catch (error) {
      console.error(error);
    }
  }

  // Run the test
  await example().catch(console.error);

  const data = printed.data<SessionValidation>();
  assert.equal(data.sessionId, second.sessionId);
  assert.equal(data.valid, true);
  assert.ok(data.expiresAt !== null && data.expiresAt instanceof Date && data.expiresAt.getTime() > env.clock.now());
});
