// typescript-fetch-style code compiles against @sessiond/sdk (`npm run typecheck` checks this file):
// every model's helpers as openapi-generator's typescript-fetch declares them (current generator
// versions: XFromJSON, XFromJSONTyped, XToJSON, XToJSONTyped, instanceOfX), date-time fields as Date,
// and each runtime export used the way generated or hand-written typescript-fetch code uses it. The
// test also runs the helpers on a live answer, so a wrong conversion fails here, not in an app.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { login, registerUser } from '../../server/test/helpers/http.ts';
import {
  AdminSessionFromJSON,
  AdminSessionFromJSONTyped,
  AdminSessionToJSON,
  AdminSessionToJSONTyped,
  instanceOfAdminSession,
  type AdminSession,
  AdminSessionListFromJSON,
  AdminSessionListFromJSONTyped,
  AdminSessionListToJSON,
  AdminSessionListToJSONTyped,
  instanceOfAdminSessionList,
  type AdminSessionList,
  AdminStatsFromJSON,
  AdminStatsFromJSONTyped,
  AdminStatsToJSON,
  AdminStatsToJSONTyped,
  instanceOfAdminStats,
  type AdminStats,
  AdminUserFromJSON,
  AdminUserFromJSONTyped,
  AdminUserToJSON,
  AdminUserToJSONTyped,
  instanceOfAdminUser,
  type AdminUser,
  AuthResultFromJSON,
  AuthResultFromJSONTyped,
  AuthResultToJSON,
  AuthResultToJSONTyped,
  instanceOfAuthResult,
  type AuthResult,
  DeviceFromJSON,
  DeviceFromJSONTyped,
  DeviceToJSON,
  DeviceToJSONTyped,
  instanceOfDevice,
  type Device,
  LoginRequestFromJSON,
  LoginRequestFromJSONTyped,
  LoginRequestToJSON,
  LoginRequestToJSONTyped,
  instanceOfLoginRequest,
  type LoginRequest,
  MeFromJSON,
  MeFromJSONTyped,
  MeToJSON,
  MeToJSONTyped,
  instanceOfMe,
  type Me,
  PaginationMetaFromJSON,
  PaginationMetaFromJSONTyped,
  PaginationMetaToJSON,
  PaginationMetaToJSONTyped,
  instanceOfPaginationMeta,
  type PaginationMeta,
  ProblemFromJSON,
  ProblemFromJSONTyped,
  ProblemToJSON,
  ProblemToJSONTyped,
  instanceOfProblem,
  type Problem,
  RefreshRequestFromJSON,
  RefreshRequestFromJSONTyped,
  RefreshRequestToJSON,
  RefreshRequestToJSONTyped,
  instanceOfRefreshRequest,
  type RefreshRequest,
  RegisterRequestFromJSON,
  RegisterRequestFromJSONTyped,
  RegisterRequestToJSON,
  RegisterRequestToJSONTyped,
  instanceOfRegisterRequest,
  type RegisterRequest,
  RevokeAllResultFromJSON,
  RevokeAllResultFromJSONTyped,
  RevokeAllResultToJSON,
  RevokeAllResultToJSONTyped,
  instanceOfRevokeAllResult,
  type RevokeAllResult,
  RevokeResultFromJSON,
  RevokeResultFromJSONTyped,
  RevokeResultToJSON,
  RevokeResultToJSONTyped,
  instanceOfRevokeResult,
  type RevokeResult,
  SessionFromJSON,
  SessionFromJSONTyped,
  SessionToJSON,
  SessionToJSONTyped,
  instanceOfSession,
  type Session,
  SessionCountFromJSON,
  SessionCountFromJSONTyped,
  SessionCountToJSON,
  SessionCountToJSONTyped,
  instanceOfSessionCount,
  type SessionCount,
  SessionEventFromJSON,
  SessionEventFromJSONTyped,
  SessionEventToJSON,
  SessionEventToJSONTyped,
  instanceOfSessionEvent,
  type SessionEvent,
  SessionEventListFromJSON,
  SessionEventListFromJSONTyped,
  SessionEventListToJSON,
  SessionEventListToJSONTyped,
  instanceOfSessionEventList,
  type SessionEventList,
  SessionListFromJSON,
  SessionListFromJSONTyped,
  SessionListToJSON,
  SessionListToJSONTyped,
  instanceOfSessionList,
  type SessionList,
  SessionValidationFromJSON,
  SessionValidationFromJSONTyped,
  SessionValidationToJSON,
  SessionValidationToJSONTyped,
  instanceOfSessionValidation,
  type SessionValidation,
  TokenPairFromJSON,
  TokenPairFromJSONTyped,
  TokenPairToJSON,
  TokenPairToJSONTyped,
  instanceOfTokenPair,
  type TokenPair,
  UserFromJSON,
  UserFromJSONTyped,
  UserToJSON,
  UserToJSONTyped,
  instanceOfUser,
  type User,
  BASE_PATH,
  BaseAPI,
  BlobApiResponse,
  COLLECTION_FORMATS,
  Configuration,
  DefaultConfig,
  FetchError,
  JSONApiResponse,
  RequiredError,
  ResponseError,
  SessionsApi,
  TextApiResponse,
  VoidApiResponse,
  canConsumeForm,
  exists,
  mapValues,
  querystring,
  type ApiResponse,
  type ConfigurationParameters,
  type Consume,
  type ErrorContext,
  type FetchAPI,
  type FetchParams,
  type HTTPBody,
  type HTTPHeaders,
  type HTTPMethod,
  type HTTPQuery,
  type HTTPRequestInit,
  type InitOverrideFunction,
  type Json,
  type Middleware,
  type ModelPropertyNaming,
  type RequestContext,
  type RequestOpts,
  type ResponseContext,
  type ResponseTransformer,
} from '../src/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | void {}

/** Each model's helpers, with the signatures typescript-fetch gives them. */
const helpers = [
  { name: 'AdminSession', fromJSON: (json: any): AdminSession => AdminSessionFromJSON(json), fromJSONTyped: (json: any): AdminSession => AdminSessionFromJSONTyped(json, false), toJSON: (value: AdminSession): any => AdminSessionToJSON(value), toJSONTyped: (value?: AdminSession | null): any => AdminSessionToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfAdminSession(value) },
  { name: 'AdminSessionList', fromJSON: (json: any): AdminSessionList => AdminSessionListFromJSON(json), fromJSONTyped: (json: any): AdminSessionList => AdminSessionListFromJSONTyped(json, false), toJSON: (value: AdminSessionList): any => AdminSessionListToJSON(value), toJSONTyped: (value?: AdminSessionList | null): any => AdminSessionListToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfAdminSessionList(value) },
  { name: 'AdminStats', fromJSON: (json: any): AdminStats => AdminStatsFromJSON(json), fromJSONTyped: (json: any): AdminStats => AdminStatsFromJSONTyped(json, false), toJSON: (value: AdminStats): any => AdminStatsToJSON(value), toJSONTyped: (value?: AdminStats | null): any => AdminStatsToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfAdminStats(value) },
  { name: 'AdminUser', fromJSON: (json: any): AdminUser => AdminUserFromJSON(json), fromJSONTyped: (json: any): AdminUser => AdminUserFromJSONTyped(json, false), toJSON: (value: AdminUser): any => AdminUserToJSON(value), toJSONTyped: (value?: AdminUser | null): any => AdminUserToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfAdminUser(value) },
  { name: 'AuthResult', fromJSON: (json: any): AuthResult => AuthResultFromJSON(json), fromJSONTyped: (json: any): AuthResult => AuthResultFromJSONTyped(json, false), toJSON: (value: AuthResult): any => AuthResultToJSON(value), toJSONTyped: (value?: AuthResult | null): any => AuthResultToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfAuthResult(value) },
  { name: 'Device', fromJSON: (json: any): Device => DeviceFromJSON(json), fromJSONTyped: (json: any): Device => DeviceFromJSONTyped(json, false), toJSON: (value: Device): any => DeviceToJSON(value), toJSONTyped: (value?: Device | null): any => DeviceToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfDevice(value) },
  { name: 'LoginRequest', fromJSON: (json: any): LoginRequest => LoginRequestFromJSON(json), fromJSONTyped: (json: any): LoginRequest => LoginRequestFromJSONTyped(json, false), toJSON: (value: LoginRequest): any => LoginRequestToJSON(value), toJSONTyped: (value?: LoginRequest | null): any => LoginRequestToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfLoginRequest(value) },
  { name: 'Me', fromJSON: (json: any): Me => MeFromJSON(json), fromJSONTyped: (json: any): Me => MeFromJSONTyped(json, false), toJSON: (value: Me): any => MeToJSON(value), toJSONTyped: (value?: Me | null): any => MeToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfMe(value) },
  { name: 'PaginationMeta', fromJSON: (json: any): PaginationMeta => PaginationMetaFromJSON(json), fromJSONTyped: (json: any): PaginationMeta => PaginationMetaFromJSONTyped(json, false), toJSON: (value: PaginationMeta): any => PaginationMetaToJSON(value), toJSONTyped: (value?: PaginationMeta | null): any => PaginationMetaToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfPaginationMeta(value) },
  { name: 'Problem', fromJSON: (json: any): Problem => ProblemFromJSON(json), fromJSONTyped: (json: any): Problem => ProblemFromJSONTyped(json, false), toJSON: (value: Problem): any => ProblemToJSON(value), toJSONTyped: (value?: Problem | null): any => ProblemToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfProblem(value) },
  { name: 'RefreshRequest', fromJSON: (json: any): RefreshRequest => RefreshRequestFromJSON(json), fromJSONTyped: (json: any): RefreshRequest => RefreshRequestFromJSONTyped(json, false), toJSON: (value: RefreshRequest): any => RefreshRequestToJSON(value), toJSONTyped: (value?: RefreshRequest | null): any => RefreshRequestToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfRefreshRequest(value) },
  { name: 'RegisterRequest', fromJSON: (json: any): RegisterRequest => RegisterRequestFromJSON(json), fromJSONTyped: (json: any): RegisterRequest => RegisterRequestFromJSONTyped(json, false), toJSON: (value: RegisterRequest): any => RegisterRequestToJSON(value), toJSONTyped: (value?: RegisterRequest | null): any => RegisterRequestToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfRegisterRequest(value) },
  { name: 'RevokeAllResult', fromJSON: (json: any): RevokeAllResult => RevokeAllResultFromJSON(json), fromJSONTyped: (json: any): RevokeAllResult => RevokeAllResultFromJSONTyped(json, false), toJSON: (value: RevokeAllResult): any => RevokeAllResultToJSON(value), toJSONTyped: (value?: RevokeAllResult | null): any => RevokeAllResultToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfRevokeAllResult(value) },
  { name: 'RevokeResult', fromJSON: (json: any): RevokeResult => RevokeResultFromJSON(json), fromJSONTyped: (json: any): RevokeResult => RevokeResultFromJSONTyped(json, false), toJSON: (value: RevokeResult): any => RevokeResultToJSON(value), toJSONTyped: (value?: RevokeResult | null): any => RevokeResultToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfRevokeResult(value) },
  { name: 'Session', fromJSON: (json: any): Session => SessionFromJSON(json), fromJSONTyped: (json: any): Session => SessionFromJSONTyped(json, false), toJSON: (value: Session): any => SessionToJSON(value), toJSONTyped: (value?: Session | null): any => SessionToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfSession(value) },
  { name: 'SessionCount', fromJSON: (json: any): SessionCount => SessionCountFromJSON(json), fromJSONTyped: (json: any): SessionCount => SessionCountFromJSONTyped(json, false), toJSON: (value: SessionCount): any => SessionCountToJSON(value), toJSONTyped: (value?: SessionCount | null): any => SessionCountToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfSessionCount(value) },
  { name: 'SessionEvent', fromJSON: (json: any): SessionEvent => SessionEventFromJSON(json), fromJSONTyped: (json: any): SessionEvent => SessionEventFromJSONTyped(json, false), toJSON: (value: SessionEvent): any => SessionEventToJSON(value), toJSONTyped: (value?: SessionEvent | null): any => SessionEventToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfSessionEvent(value) },
  { name: 'SessionEventList', fromJSON: (json: any): SessionEventList => SessionEventListFromJSON(json), fromJSONTyped: (json: any): SessionEventList => SessionEventListFromJSONTyped(json, false), toJSON: (value: SessionEventList): any => SessionEventListToJSON(value), toJSONTyped: (value?: SessionEventList | null): any => SessionEventListToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfSessionEventList(value) },
  { name: 'SessionList', fromJSON: (json: any): SessionList => SessionListFromJSON(json), fromJSONTyped: (json: any): SessionList => SessionListFromJSONTyped(json, false), toJSON: (value: SessionList): any => SessionListToJSON(value), toJSONTyped: (value?: SessionList | null): any => SessionListToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfSessionList(value) },
  { name: 'SessionValidation', fromJSON: (json: any): SessionValidation => SessionValidationFromJSON(json), fromJSONTyped: (json: any): SessionValidation => SessionValidationFromJSONTyped(json, false), toJSON: (value: SessionValidation): any => SessionValidationToJSON(value), toJSONTyped: (value?: SessionValidation | null): any => SessionValidationToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfSessionValidation(value) },
  { name: 'TokenPair', fromJSON: (json: any): TokenPair => TokenPairFromJSON(json), fromJSONTyped: (json: any): TokenPair => TokenPairFromJSONTyped(json, false), toJSON: (value: TokenPair): any => TokenPairToJSON(value), toJSONTyped: (value?: TokenPair | null): any => TokenPairToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfTokenPair(value) },
  { name: 'User', fromJSON: (json: any): User => UserFromJSON(json), fromJSONTyped: (json: any): User => UserFromJSONTyped(json, false), toJSON: (value: User): any => UserToJSON(value), toJSONTyped: (value?: User | null): any => UserToJSONTyped(value, false), instanceOf: (value: object): boolean => instanceOfUser(value) },
];

// date-time fields are Date, nullable ones Date | null, as typescript-fetch makes them.
expectType<Equal<Session['createdAt'], Date>>();
expectType<Equal<Session['lastActiveAt'], Date>>();
expectType<Equal<SessionValidation['expiresAt'], Date | null>>();
expectType<Equal<AdminSession['revokedAt'], Date | null>>();
expectType<Equal<SessionEvent['occurredAt'], Date>>();
expectType<Equal<User['createdAt'], Date>>();

// The runtime, as typescript-fetch code uses it.
const parameters: ConfigurationParameters = {
  basePath: BASE_PATH,
  fetchApi: fetch as FetchAPI,
  headers: { 'X-Client': 'compat' } satisfies HTTPHeaders,
  queryParamsStringify: (params: HTTPQuery) => querystring(params),
  credentials: 'same-origin',
  username: undefined,
  password: undefined,
  apiKey: async (name: string) => name,
  accessToken: async (name?: string, scopes?: string[]) => `${name}${scopes?.length ?? 0}`,
};
const logging: Middleware = {
  pre: async (context: RequestContext): Promise<FetchParams | void> => ({ url: context.url, init: context.init }),
  post: async (context: ResponseContext): Promise<Response | void> => context.response,
  onError: async (context: ErrorContext): Promise<Response | void> => context.response,
};
const override: InitOverrideFunction = async ({ init, context }: { init: HTTPRequestInit; context: RequestOpts }) => ({ ...init, headers: { ...init.headers, 'X-Path': context.path } }) as RequestInit;
const method: HTTPMethod = 'GET';
const body: HTTPBody = { any: 'json' } satisfies Json;
const naming: ModelPropertyNaming = 'camelCase';
const consumes: Consume[] = [{ contentType: 'application/json' }];
const transformer: ResponseTransformer<Session> = (json) => SessionFromJSON(json);

class CustomApi extends BaseAPI {
  async countRaw(initOverrides?: RequestInit | InitOverrideFunction): Promise<ApiResponse<SessionCount>> {
    // As a typescript-fetch method body reads the bearer token from the configuration.
    const headerParameters: HTTPHeaders = {};
    if (this.configuration && this.configuration.accessToken) {
      const token = this.configuration.accessToken;
      const tokenString = await token('JWT-auth', []);
      if (tokenString) headerParameters['Authorization'] = `Bearer ${tokenString}`;
    }
    const response = await this.request({ path: '/sessions/count', method, headers: headerParameters, query: {} }, initOverrides);
    return new JSONApiResponse(response, (jsonValue) => SessionCountFromJSON(jsonValue));
  }
}

test('typescript-fetch-style code: each model helper and runtime export works as typescript-fetch\'s does', async (t) => {
  // The pure runtime helpers.
  assert.equal(querystring({ a: 1, b: ['x', 'y'], c: { d: true }, e: null }), 'a=1&b=x&b=y&c%5Bd%5D=true');
  assert.deepEqual(mapValues({ a: 1, b: 2 }, (n: number) => n * 10), { a: 10, b: 20 });
  assert.equal(exists({ a: 0, b: null }, 'a'), true);
  assert.equal(exists({ a: 0, b: null }, 'b'), false);
  assert.equal(canConsumeForm(consumes), false);
  assert.equal(canConsumeForm([{ contentType: 'multipart/form-data' }]), true);
  assert.equal(COLLECTION_FORMATS.csv, ',');
  assert.equal(DefaultConfig.basePath, 'http://localhost');
  assert.ok(new RequiredError('field', 'msg') instanceof Error);
  assert.equal(naming, 'camelCase');
  assert.deepEqual(body, { any: 'json' });
  assert.equal(await new VoidApiResponse(new Response(null)).value(), undefined);
  assert.equal(await new TextApiResponse(new Response('hi')).value(), 'hi');
  assert.equal(await (await new BlobApiResponse(new Response('blob')).value()).text(), 'blob');

  // The helpers on live answers: JSON -> model (Date objects) -> JSON is the identity.
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const first = await registerUser(env.http);
  const second = await login(env.http, first);
  const config = new Configuration({ ...parameters, basePath: env.url, accessToken: first.accessToken, middleware: [logging] });
  const list = await new SessionsApi(config).sessionControllerGetActiveSessions({ currentSessionId: second.sessionId }, override);
  assert.ok(list.data[0]!.createdAt instanceof Date);
  const raw = (await env.http.get('/sessions', { token: first.accessToken })).body;
  // As sent: an optional member that is absent (unboundUseCount) comes back as `undefined`, which
  // JSON.stringify leaves out, as typescript-fetch's helpers do.
  assert.deepEqual(JSON.parse(JSON.stringify(SessionListToJSON(SessionListFromJSON(raw)))), raw);
  assert.ok(instanceOfSessionList(SessionListFromJSON(raw)));
  assert.equal(instanceOfSession({ id: 'x' }), false);
  assert.ok(transformer(raw.data[0]).lastActiveAt instanceof Date);
  assert.deepEqual(await (await new CustomApi(config).countRaw()).value(), { count: 2 });

  // Every model's five helpers exist and are inverse on null.
  for (const helper of helpers) {
    assert.equal(helper.fromJSON(null), null, helper.name);
    assert.equal(helper.fromJSONTyped(null), null, helper.name);
    assert.equal(helper.toJSONTyped(null), null, helper.name);
    assert.equal(helper.instanceOf({}), helper.name === 'RefreshRequest', `${helper.name}: instanceOf({}) holds only for a model without required properties`);
    assert.equal(typeof helper.toJSON, 'function');
  }

  // FetchError and ResponseError as typescript-fetch code catches them.
  const unreachable = new SessionsApi(new Configuration({ basePath: 'http://127.0.0.1:9', accessToken: 'x', retry: false }));
  const error = await unreachable.sessionControllerGetSessionCount().catch((e: unknown) => e);
  assert.ok(error instanceof FetchError && error.cause instanceof Error);
  const refused = await new SessionsApi(new Configuration({ basePath: env.url })).sessionControllerGetSessionCount().catch((e: unknown) => e);
  assert.ok(refused instanceof ResponseError && refused.response.status === 401);
});
