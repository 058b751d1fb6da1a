// The three adapters against a real sessiond: the Fastify plugin decorates the request, the
// Express/Connect middleware sets req.sessiond and calls next, the node:http helper answers
// refusals itself; every refusal is a 401 problem with WWW-Authenticate, and `unavailable` a 503
// with Retry-After. Plus the verifier's own input rules.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import Fastify from 'fastify';
import { startApp } from '../../server/test/helpers/app.ts';
import { TestClock } from '../../server/test/helpers/clock.ts';
import { registerUser } from '../../server/test/helpers/http.ts';
import { serviceKeysOf } from '../../server/test/helpers/service-keys.ts';
import { generateDpopKeyPair, withDpop } from '../../sdk/src/dpop.ts';
import { createVerifier, sessiondMiddleware, sessiondPlugin, verifyRequest, VerifyError, type RequestWithSession, type Verifier } from '../src/index.ts';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

test('adapters: Fastify plugin, Express/Connect middleware and node:http helper', async (t) => {
  const s = await startApp(t, 'sqlite', { clock: new TestClock(Date.now()) });
  assert.ok(s);
  const keys = serviceKeysOf(() => s.app);
  const verifier = await createVerifier({ baseUrl: s.url, serviceKey: await keys.create() });
  t.after(() => verifier.close());
  const user = await registerUser(s.http);

  const fastify = Fastify();
  await fastify.register(async (scope) => {
    await scope.register(sessiondPlugin, { verifier });
    scope.get('/me', async (request) => ({ userId: request.sessiond?.userId }));
  });
  fastify.get('/public', async () => ({ ok: true }));
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => fastify.close());
  const fastifyUrl = `http://127.0.0.1:${(fastify.server.address() as { port: number }).port}`;

  const middleware = sessiondMiddleware(verifier);
  const connect = http.createServer((req, res) => middleware(req, res, () => res.end(JSON.stringify({ userId: (req as RequestWithSession).sessiond?.userId }))));
  const connectUrl = await listen(connect);
  t.after(() => connect.close());
  // node:http drops a handler's promise: a failure answers 500, which the assertions below catch.
  const plainServer = (v: Verifier) =>
    http.createServer((req, res) => {
      verifyRequest(v, req, res).then(
        (session) => session && res.end(JSON.stringify({ userId: session.userId })),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
  const plain = plainServer(verifier);
  const plainUrl = await listen(plain);
  t.after(() => plain.close());
  // The helper answers from createVerifier's check without verify()'s promise; any other object
  // implementing Verifier (a wrapper, a test double) goes through verify(), with the same answers.
  const wrapper = plainServer({ verify: verifier.verify.bind(verifier), status: () => verifier.status(), close: () => Promise.resolve() });
  const wrapperUrl = await listen(wrapper);
  t.after(() => wrapper.close());

  for (const [name, url] of [['fastify', `${fastifyUrl}/me`], ['connect', connectUrl], ['node:http', plainUrl], ['node:http, another Verifier', wrapperUrl]] as const) {
    const ok = await fetch(url, { headers: { authorization: `Bearer ${user.accessToken}` } });
    assert.equal(ok.status, 200, name);
    assert.deepEqual(await ok.json(), { userId: user.userId }, name);
    const missing = await fetch(url);
    assert.equal(missing.status, 401, name);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer', name);
    assert.match(missing.headers.get('content-type') ?? '', /^application\/problem\+json/, name);
    const body = await missing.json();
    assert.equal(body.status, 401);
    assert.equal(body.code, 'invalid_token');
    const bad = await fetch(url, { headers: { authorization: 'Bearer abc.def.ghi' } });
    assert.equal(bad.status, 401, name);
    assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/, name);
  }
  assert.equal((await fetch(`${fastifyUrl}/public`)).status, 200, 'the plugin guards only its scope');

  // sessiond gone: fail closed, 503 with Retry-After.
  await s.app.close();
  for (const url of [`${fastifyUrl}/me`, connectUrl, plainUrl, wrapperUrl]) {
    const r = await fetch(url, { headers: { authorization: `Bearer ${user.accessToken}` } });
    assert.equal(r.status, 503, url);
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal((await r.json()).code, 'unavailable');
  }
});

test('verify(): header or bare token; refusals are VerifyErrors; a refused service key fails createVerifier', async (t) => {
  const s = await startApp(t, 'sqlite', { clock: new TestClock(Date.now()) });
  assert.ok(s);
  const keys = serviceKeysOf(() => s.app);
  await assert.rejects(createVerifier({ baseUrl: s.url, serviceKey: 'sdk_svc_0000000000000000.nope' }), /refused the service key/);
  await assert.rejects(createVerifier({ baseUrl: s.url, serviceKey: undefined }), TypeError);
  const verifier = await createVerifier({ baseUrl: s.url, serviceKey: await keys.create() });
  t.after(() => verifier.close());
  const user = await registerUser(s.http);
  const viaHeader = await verifier.verify(`Bearer ${user.accessToken}`);
  const bare = await verifier.verify(user.accessToken);
  assert.equal(viaHeader.sessionId, user.sessionId);
  assert.equal(bare.userId, user.userId);
  assert.ok(viaHeader.expiresAt instanceof Date);
  assert.equal(viaHeader.claims.sid, user.sessionId);
  for (const input of [undefined, null, '', 'Bearer', 'Basic abc', ['a', 'b'], `Bearer ${user.accessToken} extra`, 'x'.repeat(5000)]) {
    await assert.rejects(verifier.verify(input), (e: unknown) => e instanceof VerifyError && e.code === 'invalid_token', String(input).slice(0, 30));
  }
  // A token for another audience (a different sessiond deployment) is refused.
  const strict = await createVerifier({ baseUrl: s.url, serviceKey: await keys.create(), audience: 'another' });
  t.after(() => strict.close());
  await assert.rejects(strict.verify(user.accessToken), (e: unknown) => e instanceof VerifyError && e.code === 'invalid_token');
  // A device-bound (DPoP) token alone is refused, not taken as a bearer token: it needs `DPoP <token>`
  // and a proof (test/dpop.test.ts).
  const bound = await withDpop(await generateDpopKeyPair())(`${s.url}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bound@example.com', password: 'a bound device passphrase' }),
  });
  const boundBody = (await bound.json()) as { tokenType: string; accessToken: string };
  assert.equal(boundBody.tokenType, 'DPoP');
  await assert.rejects(verifier.verify(boundBody.accessToken), (e: unknown) => e instanceof VerifyError && e.code === 'invalid_token' && /DPoP/.test(e.message));
});
