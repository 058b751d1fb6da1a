// Type-level tests of the SDK's public types. `npm run typecheck` (tsc over packages/*/test) checks
// them: each `@ts-expect-error` line must be a type error, or the typecheck fails; each expectType
// must hold. The calls also run against a live service, to show what the types keep callers from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { registerUser } from '../../server/test/helpers/http.ts';
import {
  AuthApi,
  Configuration,
  RequiredError,
  ResponseError,
  SessionsApi,
  type ApiResponse,
  type Device,
  type Problem,
  type RevokeResult,
  type Session,
  type SessionControllerGetActiveSessionsRequest,
  type SessionControllerGetSessionCountRequest,
  type SessionControllerRevokeAllSessionsRequest,
  type SessionControllerRevokeSessionRequest,
  type SessionControllerValidateSessionRequest,
  type SessionCount,
  type SessionList,
} from '../src/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | void {}

// Parameters: integer query parameters take numbers and numeric strings; every list parameter is optional.
expectType<Equal<SessionControllerGetActiveSessionsRequest['page'], number | string | undefined>>();
expectType<Equal<SessionControllerGetActiveSessionsRequest['limit'], number | string | undefined>>();
expectType<Equal<SessionControllerGetActiveSessionsRequest['currentSessionId'], string | undefined>>();
expectType<Equal<SessionControllerRevokeSessionRequest, { sessionId: string }>>();
expectType<Equal<SessionControllerValidateSessionRequest, { sessionId: string }>>();
export const requests = [
  { page: '2' } satisfies SessionControllerGetActiveSessionsRequest,
  { page: 2, limit: '10', currentSessionId: 'b5f1c1a4-0c2e-4d4c-9a55-0f6a4b2b9f10' } satisfies SessionControllerGetActiveSessionsRequest,
  {} satisfies SessionControllerGetActiveSessionsRequest,
  {} satisfies SessionControllerGetSessionCountRequest,
  {} satisfies SessionControllerRevokeAllSessionsRequest,
  // @ts-expect-error page is a number or a numeric string, not a boolean
  { page: true } satisfies SessionControllerGetActiveSessionsRequest,
  // @ts-expect-error wrong parameter name (pageNumber)
  { pageNumber: 2 } satisfies SessionControllerGetActiveSessionsRequest,
  // @ts-expect-error sessionId is required
  {} satisfies SessionControllerRevokeSessionRequest,
  // @ts-expect-error wrong parameter name (id)
  { id: 'b5f1c1a4-0c2e-4d4c-9a55-0f6a4b2b9f10' } satisfies SessionControllerValidateSessionRequest,
];

// Results: the models of the OpenAPI document, exactly as sent.
expectType<Equal<Awaited<ReturnType<SessionsApi['sessionControllerGetActiveSessions']>>, SessionList>>();
expectType<Equal<Awaited<ReturnType<SessionsApi['sessionControllerGetSessionCount']>>, SessionCount>>();
expectType<Equal<Awaited<ReturnType<SessionsApi['sessionControllerRevokeSessionRaw']>>, ApiResponse<RevokeResult>>>();
expectType<Equal<Awaited<ReturnType<AuthApi['authControllerLogout']>>, void>>();
expectType<Equal<SessionList['data'], Session[]>>();
expectType<Equal<Session['ipAddress'], string | null>>();
expectType<Equal<Session['device'], Device>>();
expectType<Equal<Device['type'], 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown'>>();
expectType<Equal<RevokeResult['revoked'], true>>();

// Errors carry the problem details.
expectType<Equal<ResponseError['status'], number>>();
expectType<Equal<ResponseError['detail'], string | undefined>>();
expectType<Equal<ResponseError['problem'], Problem | undefined>>();
expectType<Equal<ResponseError['response'], Response>>();

// Configuration: the token is a string or a (possibly async) function.
export const configurations = [
  new Configuration({ accessToken: 'token' }),
  new Configuration({ accessToken: () => 'token' }),
  new Configuration({ accessToken: async () => 'token', fetchApi: fetch, headers: { 'x-client': 'web' } }),
  // @ts-expect-error a token is not a number
  new Configuration({ accessToken: 42 }),
  // @ts-expect-error unknown option
  new Configuration({ baseUrl: 'http://localhost' }),
];

test('calls the types refuse also fail at run time', async (t) => {
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const user = await registerUser(env.http);
  const api = new SessionsApi(new Configuration({ basePath: env.url, accessToken: user.accessToken }));

  // @ts-expect-error sessionId is required
  await assert.rejects(api.sessionControllerRevokeSession({}), RequiredError);
  // @ts-expect-error wrong parameter name (id)
  await assert.rejects(api.sessionControllerValidateSession({ id: user.sessionId }), RequiredError);
  // @ts-expect-error sessionId is a string
  const wrongType = await api.sessionControllerValidateSession({ sessionId: 42 }).catch((e: unknown) => e);
  assert.ok(wrongType instanceof ResponseError);
  assert.equal(wrongType.status, 400);
  // @ts-expect-error a page is not a boolean
  const wrongPage = await api.sessionControllerGetActiveSessions({ page: true }).catch((e: unknown) => e);
  assert.ok(wrongPage instanceof ResponseError);
  assert.equal(wrongPage.status, 400);

  const auth = new AuthApi(new Configuration({ basePath: env.url }));
  // @ts-expect-error password is required
  const noPassword = await auth.authControllerLogin({ loginRequest: { email: user.email } }).catch((e: unknown) => e);
  assert.ok(noPassword instanceof ResponseError);
  assert.equal(noPassword.status, 400);

  // What the types allow works: page as a string, as the shared spec's example passes it.
  const list = await api.sessionControllerGetActiveSessions({ page: '1', limit: '1' });
  assert.deepEqual(list.meta, { page: 1, limit: 1, total: 1, totalPages: 1 });
});
