// The whole life of a user's sessions through the SDK alone (no hand-made HTTP), on every backend,
// and the SDK's errors: ResponseError carrying the service's problem details.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startApp, type TestApp } from '../../server/test/helpers/app.ts';
import { backendNames } from '../../server/test/helpers/backends.ts';
import { AuthApi, Configuration, ResponseError, SessionsApi, type AuthResult } from '../src/index.ts';

const LINUX_FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';
const IPHONE_SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
const password = 'correct horse battery staple';

/** The APIs as one device (one user agent) sees them; `accessToken` is asked before every request. */
function device(env: TestApp, userAgent: string, accessToken?: () => Promise<string>) {
  const config = new Configuration({ basePath: env.url, headers: { 'user-agent': userAgent }, accessToken });
  return { auth: new AuthApi(config), sessions: new SessionsApi(config) };
}

/** Runs `call` and returns the ResponseError it must fail with. */
async function responseError(call: () => Promise<unknown>): Promise<ResponseError> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof ResponseError, `expected a ResponseError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

async function signUp(env: TestApp, email: string): Promise<AuthResult> {
  return device(env, LINUX_FIREFOX).auth.authControllerRegister({ registerRequest: { email, password, name: 'Ada' } });
}

for (const backend of backendNames) {
  describe(`the SDK against the service (${backend})`, () => {
    test('register, sign in from a second device, list, count, validate, revoke one, refresh, sign out, revoke all', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const email = `ada-${backend}@example.com`;

      const laptop = await signUp(env, email);
      assert.equal(laptop.user.email, email);
      assert.equal(laptop.user.name, 'Ada');
      assert.equal(laptop.tokenType, 'Bearer');
      env.clock.advanceSeconds(5);
      const phone = await device(env, IPHONE_SAFARI).auth.authControllerLogin({ loginRequest: { email, password } });
      assert.equal(phone.user.id, laptop.user.id);
      assert.notEqual(phone.sessionId, laptop.sessionId, 'every sign-in is a new session');

      // The laptop's token is read before every request, so a refresh below takes effect at once.
      let laptopToken = laptop.accessToken;
      const fromLaptop = device(env, LINUX_FIREFOX, async () => laptopToken);
      const fromPhone = device(env, IPHONE_SAFARI, async () => phone.accessToken);

      const me = await fromLaptop.auth.authControllerMe();
      assert.deepEqual(me, { user: laptop.user, sessionId: laptop.sessionId });

      const list = await fromLaptop.sessions.sessionControllerGetActiveSessions();
      assert.deepEqual(list.meta, { page: 1, limit: 20, total: 2, totalPages: 1 });
      assert.deepEqual(list.data.map((s) => [s.id, s.isCurrent, s.device.type]), [
        [phone.sessionId, false, 'mobile'],
        [laptop.sessionId, true, 'desktop'],
      ]);
      assert.match(list.data[0]!.device.browser ?? '', /Safari/);
      assert.equal(list.data[1]!.userAgent, LINUX_FIREFOX);

      // Pages, with the integer parameters given as strings and as numbers.
      const page2 = await fromLaptop.sessions.sessionControllerGetActiveSessions({ page: '2', limit: 1 });
      assert.deepEqual(page2.meta, { page: 2, limit: 1, total: 2, totalPages: 2 });
      assert.deepEqual(page2.data.map((s) => s.id), [laptop.sessionId]);

      assert.deepEqual(await fromPhone.sessions.sessionControllerGetSessionCount(), { count: 2 });
      const valid = await fromLaptop.sessions.sessionControllerValidateSession({ sessionId: phone.sessionId });
      assert.equal(valid.valid, true);

      // Revoke the phone from the laptop: the phone is refused on its very next request.
      assert.deepEqual(await fromLaptop.sessions.sessionControllerRevokeSession({ sessionId: phone.sessionId }), {
        sessionId: phone.sessionId,
        revoked: true,
      });
      const refused = await responseError(() => fromPhone.sessions.sessionControllerGetSessionCount());
      assert.equal(refused.status, 401);
      assert.deepEqual(await fromLaptop.sessions.sessionControllerValidateSession({ sessionId: phone.sessionId }), {
        sessionId: phone.sessionId,
        valid: false,
        expiresAt: null,
      });
      const again = await responseError(() => fromLaptop.sessions.sessionControllerRevokeSession({ sessionId: phone.sessionId }));
      assert.equal(again.status, 404);
      assert.equal((await fromLaptop.sessions.sessionControllerGetSessionCount()).count, 1);

      // Refresh: same session, new tokens.
      const refreshed = await fromLaptop.auth.authControllerRefresh({ refreshRequest: { refreshToken: laptop.refreshToken } });
      assert.equal(refreshed.sessionId, laptop.sessionId);
      assert.notEqual(refreshed.refreshToken, laptop.refreshToken);
      laptopToken = refreshed.accessToken;
      assert.equal((await fromLaptop.auth.authControllerMe()).sessionId, laptop.sessionId);

      // A third device signs out by itself: 204, no body.
      const tablet = await device(env, IPHONE_SAFARI).auth.authControllerLogin({ loginRequest: { email, password } });
      const fromTablet = device(env, IPHONE_SAFARI, async () => tablet.accessToken);
      const signedOut = await fromTablet.auth.authControllerLogoutRaw();
      assert.equal(signedOut.raw.status, 204);
      assert.equal(await signedOut.value(), undefined);
      assert.equal((await responseError(() => fromTablet.auth.authControllerMe())).status, 401);

      // Revoke all: the laptop's own session ends too.
      env.clock.advanceSeconds(5);
      const another = await device(env, IPHONE_SAFARI).auth.authControllerLogin({ loginRequest: { email, password } });
      assert.deepEqual(await fromLaptop.sessions.sessionControllerRevokeAllSessions(), { revokedCount: 2 });
      for (const token of [refreshed.accessToken, another.accessToken]) {
        const api: SessionsApi = new SessionsApi(new Configuration({ basePath: env.url, accessToken: token }));
        assert.equal((await responseError(() => api.sessionControllerGetSessionCount())).status, 401);
      }
    });

    test('errors: a wrong token is a 401 ResponseError with problem details; another user’s session is a 404', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const alice = await signUp(env, `alice-${backend}@example.com`);
      const bob = await signUp(env, `bob-${backend}@example.com`);

      const forged = new SessionsApi(new Configuration({ basePath: env.url, accessToken: 'not.a.jwt' }));
      const unauthorized = await responseError(() => forged.sessionControllerGetActiveSessions());
      assert.equal(unauthorized.name, 'ResponseError');
      assert.equal(unauthorized.status, 401);
      assert.equal(unauthorized.type, 'urn:sessiond:problem:invalid-token');
      assert.equal(unauthorized.title, 'Invalid or expired access token');
      assert.match(unauthorized.detail ?? '', /invalid or expired/);
      assert.deepEqual(unauthorized.problem, { type: unauthorized.type, title: unauthorized.title, status: 401, detail: unauthorized.detail });
      assert.match(unauthorized.message, /401 Invalid or expired access token: /);
      assert.match(unauthorized.response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
      assert.deepEqual(await unauthorized.response.json(), unauthorized.problem, 'the body is still readable');

      const anonymous = new SessionsApi(new Configuration({ basePath: env.url }));
      const missing = await responseError(() => anonymous.sessionControllerGetSessionCount());
      assert.deepEqual([missing.status, missing.type], [401, 'urn:sessiond:problem:unauthenticated']);

      const asAlice = new SessionsApi(new Configuration({ basePath: env.url, accessToken: alice.accessToken }));
      const notFound = await responseError(() => asAlice.sessionControllerRevokeSession({ sessionId: bob.sessionId }));
      assert.deepEqual([notFound.status, notFound.type], [404, 'urn:sessiond:problem:session-not-found']);
      assert.equal(typeof notFound.detail, 'string');
      assert.equal((await asAlice.sessionControllerValidateSession({ sessionId: bob.sessionId })).valid, false);
      const asBob = new AuthApi(new Configuration({ basePath: env.url, accessToken: bob.accessToken }));
      assert.equal((await asBob.authControllerMe()).sessionId, bob.sessionId, "Bob's session survived Alice's attempt");

      const malformed = await responseError(() => asAlice.sessionControllerValidateSession({ sessionId: 'not-a-uuid' }));
      assert.equal(malformed.status, 400);
      assert.ok(malformed.problem?.errors?.some((e) => e.field.includes('sessionId')), JSON.stringify(malformed.problem));

      const taken = await responseError(() => signUp(env, `alice-${backend}@example.com`));
      assert.deepEqual([taken.status, taken.type], [409, 'urn:sessiond:problem:email-taken']);
      const wrongPassword = await responseError(() =>
        new AuthApi(new Configuration({ basePath: env.url })).authControllerLogin({ loginRequest: { email: `alice-${backend}@example.com`, password: 'wrong password!' } }),
      );
      assert.deepEqual([wrongPassword.status, wrongPassword.type], [401, 'urn:sessiond:problem:invalid-credentials']);
    });
  });
}
