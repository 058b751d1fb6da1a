// test-tier: full (slow: 10 s, measured on the loaded shared machine)
// The typescript-fetch runtime behaviour the SDK promises (configuration, middleware, overrides,
// raw responses, request-side errors), over real HTTP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { registerUser } from '../../server/test/helpers/http.ts';
import { AuthApi, Configuration, FetchError, RequiredError, SessionsApi, type RequestContext } from '../src/index.ts';

test('basePath may end in a slash; Raw variants give the Response and its value', async (t) => {
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const user = await registerUser(env.http);
  const api = new SessionsApi(new Configuration({ basePath: `${env.url}/`, accessToken: user.accessToken }));
  const raw = await api.sessionControllerGetSessionCountRaw();
  assert.equal(raw.raw.status, 200);
  assert.match(raw.raw.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await raw.value(), { count: 1 });
});

test('accessToken as an async function is asked per request with the scheme name; middleware sees and may change every request', async (t) => {
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const user = await registerUser(env.http);
  const asked: unknown[][] = [];
  const seen: string[] = [];
  const config = new Configuration({
    basePath: env.url,
    accessToken: async (...args: unknown[]) => {
      asked.push(args);
      return user.accessToken;
    },
    middleware: [
      {
        async pre(context: RequestContext) {
          const url = new URL(context.url);
          seen.push(`pre ${context.init.method} ${url.pathname}${url.search}`);
          const headers = { ...(context.init.headers as Record<string, string>), 'user-agent': 'sdk-test/1.0' };
          return { url: context.url, init: { ...context.init, headers } };
        },
        async post(context) {
          seen.push(`post ${context.response.status}`);
        },
      },
    ],
  });
  // The sign-in goes through the pre hook, so the new session records the user agent it set.
  const signedIn = await new AuthApi(config).authControllerLogin({ loginRequest: { email: user.email, password: user.password } });
  const api = new SessionsApi(config);
  const list = await api.sessionControllerGetActiveSessions({ page: 1, limit: '5' });
  assert.deepEqual(asked, [['JWT-auth', []]], 'asked once, for the one secured operation');
  assert.deepEqual(seen, ['pre POST /auth/login', 'post 200', 'pre GET /sessions?page=1&limit=5', 'post 200']);
  assert.equal(list.data.find((s) => s.id === signedIn.sessionId)?.userAgent, 'sdk-test/1.0');

  // withPostMiddleware returns a new client; the original keeps its own middleware only.
  const statuses: number[] = [];
  const watched = api.withPostMiddleware(async ({ response }) => {
    statuses.push(response.status);
  });
  await watched.sessionControllerGetSessionCount();
  await api.sessionControllerGetSessionCount();
  assert.deepEqual(statuses, [200]);
});

test('initOverrides: a RequestInit, or a function of the request that returns one', async (t) => {
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const user = await registerUser(env.http);
  const auth = new AuthApi(new Configuration({ basePath: env.url }));
  // The override supplies the token: the API itself has none configured.
  const me = await auth.authControllerMe(async ({ init }) => ({ headers: { ...init.headers, Authorization: `Bearer ${user.accessToken}` } }));
  assert.equal(me.sessionId, user.sessionId);
  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(auth.authControllerMe({ signal: aborted.signal }), FetchError);
});

test('a missing required parameter is a RequiredError before anything is sent; an unreachable service is a FetchError', async (t) => {
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  await env.app.close(); // nothing listens there any more
  const api = new SessionsApi(new Configuration({ basePath: env.url, accessToken: 'x' }));
  const required = await api.sessionControllerRevokeSession({ sessionId: undefined as unknown as string }).catch((e: unknown) => e);
  assert.ok(required instanceof RequiredError);
  assert.equal(required.field, 'sessionId');
  assert.match(required.message, /sessionControllerRevokeSession\(\)/);
  const unreachable = await api.sessionControllerGetSessionCount().catch((e: unknown) => e);
  assert.ok(unreachable instanceof FetchError, String(unreachable));
  assert.ok(unreachable.cause instanceof Error);
});
