// Device-bound (DPoP, RFC 9449) access tokens at a resource server using @sessiond/verify: a real
// sessiond binds a session to a device key, and a real node:http resource server (verifyRequest)
// accepts its token only as `Authorization: DPoP` with a valid proof over that very request. Each
// failure case of RFC 9449 §4.3 and §7.1 is a 401 with a `WWW-Authenticate: DPoP` challenge.
// Proofs are made by the SDK (@sessiond/sdk/dpop, as a client does) and, spoiled on purpose, by the
// server tests' DeviceKey.
import assert from 'node:assert/strict';
import nodeCrypto from 'node:crypto';
import http from 'node:http';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import Fastify from 'fastify';
import { startApp, type TestApp } from '../../server/test/helpers/app.ts';
import { TestClock } from '../../server/test/helpers/clock.ts';
import { DeviceKey, type ProofOptions } from '../../server/test/helpers/dpop.ts';
import { registerUser } from '../../server/test/helpers/http.ts';
import { serviceKeysOf } from '../../server/test/helpers/service-keys.ts';
import { generateDpopKeyPair, withDpop } from '../../sdk/src/dpop.ts';
import { startStreamProxy } from './fixtures/processes.ts';
import { createVerifier, sessiondMiddleware, sessiondPlugin, verifyRequest, type AdapterOptions, type RequestWithSession, type Verifier } from '../src/index.ts';

const password = 'a bound device passphrase';
let n = 0;

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A node:http resource server with the verifier's helper, answering the session it accepted. */
async function resourceServer(t: TestContext, verifier: Verifier, options: AdapterOptions = {}): Promise<string> {
  // node:http drops a handler's promise: a failure answers 500, which the assertions catch.
  const server = http.createServer((req, res) => {
    verifyRequest(verifier, req, res, options).then(
      (session) => session && res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sessionId: session.sessionId })),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return listen(server);
}

/** Signs up with a proof by `key`: a session bound to it (tokenType DPoP, cnf.jkt). */
async function signUpBound(s: TestApp, key: DeviceKey) {
  const proof = await key.proof({ htm: 'POST', htu: `${s.url}/auth/register` });
  const res = await s.http.post('/auth/register', { email: `bound${Date.now()}${n++}@example.com`, password }, { headers: { dpop: proof } });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.tokenType, 'DPoP');
  return res.body as { sessionId: string; accessToken: string };
}

async function setUp(t: TestContext) {
  const s = await startApp(t, 'sqlite', { clock: new TestClock(Date.now()) });
  assert.ok(s);
  const verifier = await createVerifier({ baseUrl: s.url, serviceKey: await serviceKeysOf(() => s.app).create() });
  t.after(() => verifier.close());
  const key = await DeviceKey.generate(() => Date.now(), 'ES256');
  const bound = await signUpBound(s, key);
  return { s, verifier, key, bound, rs: await resourceServer(t, verifier) };
}

interface Answer {
  status: number;
  challenge: string;
  body: any;
}

async function call(url: string, headers: Record<string, string> | Array<[string, string]>, method = 'GET'): Promise<Answer> {
  const res = await fetch(url, { method, headers });
  const text = await res.text();
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '', body: text ? JSON.parse(text) : undefined };
}

/** `GET url` with `Authorization: DPoP token` and a proof by `key` for it, with `spoil` applied. */
async function dpopCall(url: string, key: DeviceKey, token: string, spoil: Partial<ProofOptions> = {}, method = 'GET') {
  const proof = await key.proof({ htm: method, htu: url, accessToken: token, ...spoil });
  return call(url, { authorization: `DPoP ${token}`, dpop: proof }, method);
}

function assertRefusedProof(r: Answer, why: string) {
  assert.equal(r.status, 401, why);
  assert.equal(r.body.code, 'invalid_token', why);
  assert.match(r.challenge, /^DPoP error="invalid_dpop_proof"/, why);
  assert.match(r.challenge, /algs="ES256 EdDSA"/, why);
}

test('DPoP: a bound token with a valid proof is accepted (SDK client, both algorithms), again with a fresh proof (cache hit), query ignored', async (t) => {
  const { s, verifier, key, bound, rs } = await setUp(t);
  const url = `${rs}/things`;
  const ok = await dpopCall(url, key, bound.accessToken);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.sessionId, bound.sessionId);
  const again = await dpopCall(`${url}?page=2`, key, bound.accessToken, { htu: url });
  assert.equal(again.status, 200, 'htu has no query (RFC 9449 §4.3 step 9); the token is a cache hit, the proof is new');
  assert.equal(verifier.status().cachedTokens, 1);

  // A client as the SDK makes it: withDpop signs each request and sends the bound token as DPoP.
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const fetchBound = withDpop(await generateDpopKeyPair(alg));
    const signUp = await fetchBound(`${s.url}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `sdk-${alg}-${Date.now()}@example.com`, password }),
    });
    const { accessToken, sessionId } = (await signUp.json()) as { accessToken: string; sessionId: string };
    for (const method of ['GET', 'POST', 'GET']) {
      const res = await fetchBound(`${rs}/orders/7`, { method, headers: { authorization: `Bearer ${accessToken}` } });
      assert.equal(res.status, 200, `${alg} ${method}: ${await res.clone().text()}`);
      assert.equal(((await res.json()) as { sessionId: string }).sessionId, sessionId);
    }
  }
});

test('DPoP: every RFC 9449 failure case is a 401 with a DPoP challenge', async (t) => {
  const { s, key, bound, rs } = await setUp(t);
  const url = `${rs}/things`;
  const token = bound.accessToken;
  const other = await DeviceKey.generate(() => Date.now(), 'ES256');
  const edKey = await DeviceKey.generate(() => Date.now(), 'EdDSA');
  const nowS = Math.floor(Date.now() / 1000);
  const claims = (spoil: Record<string, unknown> = {}) => ({ htm: 'GET', htu: url, iat: nowS, jti: `jti-${n++}-${Date.now()}`, ath: 'x', ...spoil });

  // The bound token as a bearer token, even with a valid proof beside it: not a proof-of-possession request.
  const asBearer = await call(url, { authorization: `Bearer ${token}`, dpop: await key.proof({ htm: 'GET', htu: url, accessToken: token }) });
  assert.equal(asBearer.status, 401);
  assert.match(asBearer.challenge, /^DPoP error="invalid_token"/);
  const bare = await call(url, { authorization: token });
  assert.equal(bare.status, 401, 'a bare bound token is a bearer token: refused');

  assertRefusedProof(await call(url, { authorization: `DPoP ${token}` }), 'no DPoP header');
  assertRefusedProof(await dpopCall(url, key, token, { htm: 'POST' }), 'wrong htm');
  assertRefusedProof(await dpopCall(url, key, token, { htu: `${rs}/other` }), 'wrong htu path');
  assertRefusedProof(await dpopCall(url, key, token, { htu: url.replace('127.0.0.1', 'localhost') }), 'wrong htu host');
  assertRefusedProof(await dpopCall(url, key, token, { htu: url.replace('http:', 'https:') }), 'wrong htu scheme');
  assertRefusedProof(await dpopCall(url, key, token, { accessToken: undefined }), 'missing ath');
  const otherToken = (await registerUser(s.http)).accessToken;
  const accessTokenHash = (t: string) => nodeCrypto.createHash('sha256').update(t).digest('base64url');
  assertRefusedProof(await dpopCall(url, key, token, { accessToken: otherToken }), 'ath of another token');
  assertRefusedProof(await dpopCall(url, other, token), 'proof by another key than cnf.jkt');
  assertRefusedProof(await dpopCall(url, edKey, token), 'proof by another key (EdDSA)');
  assertRefusedProof(await dpopCall(url, key, token, { iatMs: Date.now() - 120_000 }), 'iat too old');
  assertRefusedProof(await dpopCall(url, key, token, { iatMs: Date.now() + 120_000 }), 'iat in the future');
  assertRefusedProof(await dpopCall(url, key, token, { claims: { iat: undefined } }), 'no iat');
  assertRefusedProof(await dpopCall(url, key, token, { claims: { jti: undefined } }), 'no jti');
  assertRefusedProof(await dpopCall(url, key, token, { header: { typ: 'JWT' } }), 'typ not dpop+jwt');
  assertRefusedProof(await dpopCall(url, key, token, { header: { jwk: await key.privateJwk() } }), 'private key in the header');
  assertRefusedProof(await dpopCall(url, key, token, { header: { jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' } } }), 'malformed jwk (not on the curve)');
  assertRefusedProof(await dpopCall(url, key, token, { header: { jwk: { kty: 'EC', crv: 'P-384', x: key.publicJwk.x, y: key.publicJwk.y } } }), 'jwk of another curve');
  assertRefusedProof(await dpopCall(url, key, token, { header: { jwk: undefined } }), 'no jwk');
  const header = { typ: 'dpop+jwt', jwk: key.publicJwk };
  // jose will not sign a `crit` it does not know; signed here by hand (ES256 with WebCrypto: r||s).
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const critInput = `${b64({ ...header, alg: 'ES256', crit: ['urn:x'], 'urn:x': 1 })}.${b64(claims({ ath: accessTokenHash(token) }))}`;
  const critSignature = Buffer.from(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, Buffer.from(critInput))).toString('base64url');
  assertRefusedProof(await call(url, { authorization: `DPoP ${token}`, dpop: `${critInput}.${critSignature}` }), 'crit header');
  assertRefusedProof(await call(url, { authorization: `DPoP ${token}`, dpop: DeviceKey.unsigned(header, claims()) }), 'alg none');
  assertRefusedProof(await call(url, { authorization: `DPoP ${token}`, dpop: DeviceKey.hs256(header, claims(), 'secret') }), 'HS256');
  assertRefusedProof(await call(url, { authorization: `DPoP ${token}`, dpop: 'not-a-jwt' }), 'not a JWT');
  const proof = await key.proof({ htm: 'GET', htu: url, accessToken: token });
  assertRefusedProof(await call(url, [['authorization', `DPoP ${token}`], ['dpop', proof], ['dpop', proof]]), 'two DPoP headers');
  const tampered = proof.slice(0, -4) + (proof.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assertRefusedProof(await call(url, { authorization: `DPoP ${token}`, dpop: tampered }), 'altered signature');

  // Replay: the very same proof a second time.
  const once = await key.proof({ htm: 'GET', htu: url, accessToken: token });
  assert.equal((await call(url, { authorization: `DPoP ${token}`, dpop: once })).status, 200);
  assertRefusedProof(await call(url, { authorization: `DPoP ${token}`, dpop: once }), 'replayed jti');

  // An unbound token under the DPoP scheme (RFC 9449 §7.1: that scheme is for bound tokens).
  const plain = await registerUser(s.http);
  const unbound = await dpopCall(url, key, plain.accessToken);
  assert.equal(unbound.status, 401);
  assert.match(unbound.challenge, /^DPoP error="invalid_token"/);
  assert.equal((await call(url, { authorization: `Bearer ${plain.accessToken}` })).status, 200, 'unbound tokens as Bearer are unaffected');

  // Still good after all that; and a revoked bound session is refused with a DPoP challenge.
  assert.equal((await dpopCall(url, key, token)).status, 200);
  assert.equal((await s.http.post('/auth/logout', {}, { headers: { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'POST', htu: `${s.url}/auth/logout`, accessToken: token }) } })).status, 204);
  const deadline = Date.now() + 5000;
  let revoked: Answer;
  do revoked = await dpopCall(url, key, token);
  while (revoked.status === 200 && Date.now() < deadline);
  assert.equal(revoked.status, 401);
  assert.equal(revoked.body.code, 'revoked');
  assert.match(revoked.challenge, /^DPoP error="invalid_token"/);
});

test('DPoP through the Fastify plugin and the Express middleware; publicUrl decides htu', async (t) => {
  const { verifier, key, bound } = await setUp(t);
  const token = bound.accessToken;

  const fastify = Fastify();
  await fastify.register(async (scope) => {
    await scope.register(sessiondPlugin, { verifier });
    scope.get('/api/me', async (request) => ({ sessionId: request.sessiond?.sessionId }));
  });
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => fastify.close());
  const fastifyUrl = `http://127.0.0.1:${(fastify.server.address() as { port: number }).port}/api/me`;

  // Mounted the way Express/Connect mount a router at /api: req.url loses the prefix, req.originalUrl
  // keeps what the client sent (and signed).
  const middleware = sessiondMiddleware(verifier);
  const expressServer = http.createServer((req, res) => {
    Object.assign(req, { originalUrl: req.url, url: req.url!.replace(/^\/api/, '') });
    middleware(req, res, () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sessionId: (req as RequestWithSession).sessiond?.sessionId })));
  });
  t.after(() => new Promise<void>((r) => expressServer.close(() => r())));
  const expressUrl = `${await listen(expressServer)}/api/me`;

  for (const [name, url] of [['fastify', fastifyUrl], ['connect', expressUrl]] as const) {
    const ok = await dpopCall(url, key, token);
    assert.equal(ok.status, 200, `${name}: ${JSON.stringify(ok.body)}`);
    assert.equal(ok.body.sessionId, bound.sessionId, name);
    assertRefusedProof(await dpopCall(url, key, token, { htu: url.replace('/api/me', '/me') }), `${name}: wrong path`);
    const asBearer = await call(url, { authorization: `Bearer ${token}` });
    assert.equal(asBearer.status, 401, name);
    assert.match(asBearer.challenge, /^DPoP error="invalid_token"/, name);
  }

  // Behind a proxy: the URL the client used is publicUrl + path, whatever the Host header says.
  const behindProxy = await resourceServer(t, verifier, { publicUrl: 'https://api.example.com/v1/' });
  const ok = await call(`${behindProxy}/things`, { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'GET', htu: 'https://api.example.com/v1/things', accessToken: token }) });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assertRefusedProof(await dpopCall(`${behindProxy}/things`, key, token), 'the Host-header URL is not the public one');
});

test('DPoP: with a silent stream a bound token fails closed (503), and its session is not taken for revoked', async (t) => {
  const s = await startApp(t, 'sqlite', { clock: new TestClock(Date.now()) });
  assert.ok(s);
  const proxy = await startStreamProxy(t, new URL(s.url));
  const verifier = await createVerifier({ baseUrl: proxy.url, serviceKey: await serviceKeysOf(() => s.app).create(), maxStalenessMs: 300 });
  t.after(() => verifier.close());
  const key = await DeviceKey.generate(() => Date.now(), 'ES256');
  const bound = await signUpBound(s, key);
  const rs = await resourceServer(t, verifier);
  assert.equal((await dpopCall(`${rs}/x`, key, bound.accessToken)).status, 200);
  // sessiond's GET /sessions/validate takes a bound token only with a proof by the device's key,
  // which the resource server does not have: when memory cannot vouch, it cannot ask either.
  proxy.freezeStreams();
  const deadline = Date.now() + 5000;
  let r: Answer;
  do r = await dpopCall(`${rs}/x`, key, bound.accessToken);
  while (r.status === 200 && Date.now() < deadline);
  assert.equal(r.status, 503);
  assert.equal(r.body.code, 'unavailable');
  assert.equal(verifier.status().revokedCount, 0, 'a live session is not remembered as ended');
});
