// The SDK's DPoP support (src/dpop.ts) against the real service, on every backend: WebCrypto keys as
// Node 20 and browsers have them, proofs added to every request, the nonce retry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { backendNames } from '../../server/test/helpers/backends.ts';
import { TestClock } from '../../server/test/helpers/clock.ts';
import { AuthApi, Configuration, ResponseError, SessionsApi } from '../src/index.ts';
import { dpopMiddleware, generateDpopKeyPair, isBoundAccessToken, withDpop } from '../src/dpop.ts';

const password = 'correct horse battery staple';

for (const backend of backendNames) {
  describe(`SDK DPoP (${backend})`, () => {
    test('withDpop: a bound session end to end, and its refresh token useless without the key', async (t) => {
      // Proofs carry the real time (Date.now()), so the service's clock starts at it.
      const env = await startApp(t, backend, { clock: new TestClock(Date.now()) });
      if (!env) return;
      const keyPair = await generateDpopKeyPair('ES256');
      assert.equal(keyPair.privateKey.extractable, false);
      let accessToken = '';
      const config = new Configuration({ basePath: env.url, fetchApi: withDpop(keyPair), accessToken: async () => accessToken });
      const auth = new AuthApi(config);
      const signedUp = await auth.authControllerRegister({ registerRequest: { email: `sdk-dpop-${backend}@example.com`, password } });
      assert.equal(signedUp.tokenType, 'DPoP');
      assert.ok(isBoundAccessToken(signedUp.accessToken));
      accessToken = signedUp.accessToken;
      assert.equal((await auth.authControllerMe()).sessionId, signedUp.sessionId);
      const list = await new SessionsApi(config).sessionControllerGetActiveSessions({});
      assert.deepEqual(list.data.map((s) => s.dpopBound), [true]);

      // The same refresh token without the key (a plain client): refused; with it: new tokens.
      const plain = new AuthApi(new Configuration({ basePath: env.url }));
      const refused = await plain.authControllerRefresh({ refreshRequest: { refreshToken: signedUp.refreshToken! } }).catch((e: unknown) => e);
      assert.ok(refused instanceof ResponseError && refused.status === 401);
      const refreshed = await auth.authControllerRefresh({ refreshRequest: { refreshToken: signedUp.refreshToken! } });
      assert.equal(refreshed.tokenType, 'DPoP');
      accessToken = refreshed.accessToken;
      assert.equal((await auth.authControllerMe()).sessionId, signedUp.sessionId);
      // The bound access token alone, as a bearer token: refused.
      const stolen = await new AuthApi(new Configuration({ basePath: env.url, accessToken: refreshed.accessToken })).authControllerMe().catch((e: unknown) => e);
      assert.ok(stolen instanceof ResponseError && stolen.status === 401);
    });

    test('a device clock far off the server: one refusal teaches the offset (Date header), then proofs pass', async (t) => {
      const env = await startApp(t, backend, { clock: new TestClock(Date.now() - 2 * 24 * 3600_000) });
      if (!env) return;
      const sent: number[] = [];
      const fetchApi = withDpop(await generateDpopKeyPair('ES256'), {
        fetchApi: async (url, init) => {
          const response = await fetch(url, init);
          sent.push(response.status);
          return response;
        },
      });
      const auth = new AuthApi(new Configuration({ basePath: env.url, fetchApi }));
      const signedUp = await auth.authControllerRegister({ registerRequest: { email: `sdk-skew-${backend}@example.com`, password } });
      assert.equal(signedUp.tokenType, 'DPoP');
      assert.deepEqual(sent, [400, 201], 'sign-up (a token endpoint) refuses the proof with 400 (RFC 9449 §5)');
      await auth.authControllerRefresh({ refreshRequest: { refreshToken: signedUp.refreshToken! } });
      assert.deepEqual(sent, [400, 201, 200], 'the offset is kept');
    });

    test('dpopMiddleware with Ed25519 and required nonces: retries once with the server nonce', async (t) => {
      const env = await startApp(t, backend, { clock: new TestClock(Date.now()), config: { dpop: { required: true, requireNonce: true, iatWindowSeconds: 60 } } });
      if (!env) return;
      const keyPair = await generateDpopKeyPair('EdDSA');
      let accessToken = '';
      const sent: string[] = [];
      const config = new Configuration({
        basePath: env.url,
        fetchApi: async (url, init) => {
          sent.push(String(url));
          return fetch(url, init);
        },
        accessToken: async () => accessToken,
        middleware: [dpopMiddleware(keyPair)],
      });
      const auth = new AuthApi(config);
      const signedUp = await auth.authControllerRegister({ registerRequest: { email: `sdk-nonce-${backend}@example.com`, password } });
      assert.equal(signedUp.tokenType, 'DPoP');
      assert.equal(sent.length, 2, 'one use_dpop_nonce answer, then the retry');
      accessToken = signedUp.accessToken;
      assert.equal((await auth.authControllerMe()).sessionId, signedUp.sessionId);
      assert.equal(sent.length, 3, 'the nonce of the last answer was reused');
    });
  });
}
