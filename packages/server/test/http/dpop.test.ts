// test-tier: full (slow: 24 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { backendNames, type BackendName } from '../helpers/backends.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { DeviceKey, jwtPayload, type ProofOptions } from '../helpers/dpop.ts';
import { isProblem, registerUser, type HttpResult } from '../helpers/http.ts';
import { openSse } from '../helpers/sse.ts';

/**
 * Issue 17: sessions bound to a key the device holds (DPoP, RFC 9449), on both backends, through the
 * real HTTP server. Proofs are made by jose with WebCrypto keys, as a client would.
 */
const password = 'correct horse battery staple';
let n = 0;
const email = () => `dpop${Date.now()}${n++}@example.com`;

/** Signs up with a proof by `key`: a bound session. */
async function signUpBound(env: TestApp, key: DeviceKey) {
  const proof = await key.proof({ htm: 'POST', htu: `${env.url}/auth/register` });
  const address = email();
  const res = await env.http.post('/auth/register', { email: address, password }, { headers: { dpop: proof } });
  assert.equal(res.status, 201, res.text);
  return { ...(res.body as { sessionId: string; accessToken: string; refreshToken: string; tokenType: string }), email: address };
}

/** An app of the backend, a device key, and an account signed up bound to it. */
async function startBound(t: TestContext, backend: BackendName) {
  const env = await startApp(t, backend);
  if (!env) return undefined;
  const now = () => env.clock.now();
  const key = await DeviceKey.generate(now);
  return { env, now, key, bound: await signUpBound(env, key) };
}

/** GET path with the DPoP scheme and a proof made by `key` with `spoil` applied. */
async function dpopGet(env: TestApp, key: DeviceKey, token: string, path = '/auth/me', spoil: Partial<ProofOptions> = {}) {
  const proof = await key.proof({ htm: 'GET', htu: `${env.url}${path}`, accessToken: token, ...spoil });
  return env.http.get(path, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
}

async function refreshWith(env: TestApp, refreshToken: string, proof?: string) {
  return env.http.post('/auth/refresh', { refreshToken }, { headers: proof ? { dpop: proof } : {} });
}

const problemCode = (res: { body: any }) => String(res.body?.type ?? '').replace('urn:sessiond:problem:', '');

for (const backend of backendNames) {
  describe(`device-bound sessions (${backend})`, () => {
    test('binding at sign-up and sign-in: tokenType DPoP, cnf.jkt, dpopBound; an unbound session works as before', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      for (const alg of ['ES256', 'EdDSA'] as const) {
        const key = await DeviceKey.generate(() => env.clock.now(), alg);
        const bound = await signUpBound(env, key);
        assert.equal(bound.tokenType, 'DPoP');
        assert.deepEqual(jwtPayload(bound.accessToken).cnf, { jkt: key.jkt });
        const me = await dpopGet(env, key, bound.accessToken);
        assert.equal(me.status, 200, me.text);
        assert.equal(me.body.sessionId, bound.sessionId);
        // Sign-in binds too, to the key of its own proof.
        const other = await DeviceKey.generate(() => env.clock.now(), alg);
        const login: HttpResult = await env.http.post('/auth/login', { email: bound.email, password }, {
          headers: { dpop: await other.proof({ htm: 'POST', htu: `${env.url}/auth/login` }) },
        });
        assert.equal(login.status, 200, login.text);
        assert.equal(login.body.tokenType, 'DPoP');
        assert.equal(jwtPayload(login.body.accessToken).cnf.jkt, other.jkt);
        const list = await dpopGet(env, other, login.body.accessToken, '/sessions');
        assert.equal(list.status, 200, list.text);
        assert.deepEqual(list.body.data.map((s: any) => s.dpopBound), [true, true]);
      }

      // Unbound: exactly as before (Bearer, no cnf), and marked so in the list.
      const plain = await registerUser(env.http);
      const raw = await env.http.post('/auth/login', { email: plain.email, password: plain.password });
      assert.equal(raw.body.tokenType, 'Bearer');
      assert.equal(jwtPayload(plain.accessToken).cnf, undefined);
      const list = await env.http.get('/sessions', { token: plain.accessToken });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.data.map((s: any) => s.dpopBound), [false, false]);
      const refreshed = await refreshWith(env, plain.refreshToken);
      assert.equal(refreshed.status, 200);
      assert.equal(refreshed.body.tokenType, 'Bearer');
      // The DPoP scheme is for bound tokens only.
      const key = await DeviceKey.generate(() => env.clock.now());
      const wrongScheme = await dpopGet(env, key, plain.accessToken);
      assert.equal(wrongScheme.status, 401);
      assert.equal(problemCode(wrongScheme), 'invalid-token');
    });

    test('a bound access token: Bearer refused with WWW-Authenticate: DPoP, and never answered by the fast path', async (t) => {
      const env = await startApp(t, backend);
      if (!env) return;
      const key = await DeviceKey.generate(() => env.clock.now());
      const bound = await signUpBound(env, key);
      assert.equal((await dpopGet(env, key, bound.accessToken)).status, 200); // verified once: in the token cache now
      const servedBefore = env.app.sessiond.fastPath!.served;
      for (const path of ['/auth/me', '/sessions', `/sessions/validate/${bound.sessionId}`]) {
        const res: HttpResult = await env.http.get(path, { token: bound.accessToken });
        assert.equal(res.status, 401, path);
        assert.ok(isProblem(res));
        assert.match(res.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_token"/);
        assert.equal((await dpopGet(env, key, bound.accessToken, path)).status, 200, path);
      }
      assert.equal(env.app.sessiond.fastPath!.served, servedBefore, 'the fast path answered for a bound token');
      // Unbound tokens still take the fast path.
      const plain = await registerUser(env.http);
      await env.http.get('/auth/me', { token: plain.accessToken });
      await env.http.get('/auth/me', { token: plain.accessToken });
      assert.ok(env.app.sessiond.fastPath!.served > servedBefore);
    });

    test('every failure case of RFC 9449 §4.3 is refused', async (t) => {
      const started = await startBound(t, backend);
      if (!started) return;
      const { env, now, key, bound } = started;
      const token = bound.accessToken;
      const htu = `${env.url}/auth/me`;
      const good = { htm: 'GET', htu, iat: Math.floor(now() / 1000), jti: 'a-jti-long-enough' };
      const other = await DeviceKey.generate(now);
      const cases: Array<[string, () => Promise<string>]> = [
        ['wrong htm', () => key.proof({ htm: 'POST', htu, accessToken: token })],
        ['wrong htu (path)', () => key.proof({ htm: 'GET', htu: `${env.url}/sessions`, accessToken: token })],
        ['wrong htu (host)', () => key.proof({ htm: 'GET', htu: 'https://elsewhere.example/auth/me', accessToken: token })],
        ['missing ath', () => key.proof({ htm: 'GET', htu })],
        ['wrong ath', () => key.proof({ htm: 'GET', htu, accessToken: `${token}x` })],
        ['a different key', () => other.proof({ htm: 'GET', htu, accessToken: token })],
        ['signed by another key than its jwk', () => other.proof({ htm: 'GET', htu, accessToken: token, header: { jwk: key.publicJwk } })],
        ['signature altered', async () => { const p = await key.proof({ htm: 'GET', htu, accessToken: token }); return p.slice(0, -4) + (p.endsWith('AAAA') ? 'BBBB' : 'AAAA'); }],
        ['old iat', () => key.proof({ htm: 'GET', htu, accessToken: token, iatMs: now() - 61_000 })],
        ['future iat', () => key.proof({ htm: 'GET', htu, accessToken: token, iatMs: now() + 61_000 })],
        ['no iat', () => key.proof({ htm: 'GET', htu, accessToken: token, claims: { iat: undefined } })],
        ['no jti', () => key.proof({ htm: 'GET', htu, accessToken: token, claims: { jti: undefined } })],
        ['typ not dpop+jwt', () => key.proof({ htm: 'GET', htu, accessToken: token, header: { typ: 'JWT' } })],
        ['alg none', async () => DeviceKey.unsigned({ typ: 'dpop+jwt', jwk: key.publicJwk }, good)],
        ['HS256', async () => DeviceKey.hs256({ typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } }, good, 'secret')],
        ['HS256 with the public key as secret', async () => DeviceKey.hs256({ typ: 'dpop+jwt', jwk: key.publicJwk }, good, JSON.stringify(key.publicJwk))],
        ['private key in the header', async () => key.proof({ htm: 'GET', htu, accessToken: token, header: { jwk: await key.privateJwk() } })],
        ['malformed JWK (bad coordinates)', () => key.proof({ htm: 'GET', htu, accessToken: token, header: { jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' } } })],
        ['malformed JWK (wrong curve for alg)', () => key.proof({ htm: 'GET', htu, accessToken: token, header: { jwk: { ...key.publicJwk, crv: 'P-384' } } })],
        ['JWK not an object', () => key.proof({ htm: 'GET', htu, accessToken: token, header: { jwk: 'key' } })],
        ['no JWK', () => key.proof({ htm: 'GET', htu, accessToken: token, header: { jwk: undefined } })],
        ['not a JWT', async () => 'not-a-jwt'],
        ['two proofs', async () => `${await key.proof({ htm: 'GET', htu, accessToken: token })}, ${await key.proof({ htm: 'GET', htu, accessToken: token })}`],
      ];
      for (const [name, make] of cases) {
        const res: HttpResult = await env.http.get('/auth/me', { headers: { authorization: `DPoP ${token}`, dpop: await make() } });
        assert.equal(res.status, 401, `${name}: ${res.text}`);
        assert.ok(isProblem(res), name);
        assert.equal(problemCode(res), 'invalid-dpop-proof', `${name}: ${res.text}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_dpop_proof", algs="ES256 EdDSA"$/, name);
      }
      // No proof at all with the DPoP scheme.
      const none = await env.http.get('/auth/me', { headers: { authorization: `DPoP ${token}` } });
      assert.equal(none.status, 401);
      assert.equal(problemCode(none), 'invalid-dpop-proof');

      // A replayed jti: accepted once, refused after, also by the same key for another URL.
      const proof = await key.proof({ htm: 'GET', htu, accessToken: token, jti: 'replayed-jti-0001' });
      const first = await env.http.get('/auth/me', { headers: { authorization: `DPoP ${token}`, dpop: proof } });
      assert.equal(first.status, 200, first.text);
      const again = await env.http.get('/auth/me', { headers: { authorization: `DPoP ${token}`, dpop: proof } });
      assert.equal(again.status, 401);
      assert.match(again.body.detail, /already used/);
      // iat at the edge of the window (within ±60 s) is fine; query and fragment are ignored in htu.
      assert.equal((await dpopGet(env, key, token, '/auth/me', { iatMs: now() - 55_000 })).status, 200);
      assert.equal((await dpopGet(env, key, token, '/auth/me', { iatMs: now() + 55_000 })).status, 200);
      const withQuery = await key.proof({ htm: 'GET', htu: `${env.url}/sessions?page=9#x`, accessToken: token });
      assert.equal((await env.http.get('/sessions?page=1', { headers: { authorization: `DPoP ${token}`, dpop: withQuery } })).status, 200);
      // Sign-in refuses bad proofs too, before looking at the password.
      const badSignIn = await env.http.post('/auth/login', { email: 'x@example.com', password: 'whatever it is' }, {
        headers: { dpop: await key.proof({ htm: 'GET', htu: `${env.url}/auth/login` }) },
      });
      assert.equal(badSignIn.status, 400, 'a token endpoint answers 400 (RFC 9449 §5)');
      assert.equal(problemCode(badSignIn), 'invalid-dpop-proof');
      assert.equal(badSignIn.body.error, 'invalid_dpop_proof', 'the OAuth error member (RFC 6749 §5.2) beside the problem details');
      assert.equal(badSignIn.headers.get('www-authenticate'), null, 'no challenge: the request is wrong, not a credential');
      assert.equal(again.body.error, undefined, 'a resource request is answered by its challenge, not a token endpoint error');
    });

    test('at the token endpoints a bad proof is 400 invalid_dpop_proof (RFC 9449 §5), whatever the token; the session is untouched', async (t) => {
      const started = await startBound(t, backend);
      if (!started) return;
      const { env, now, key, bound } = started;
      const htu = `${env.url}/auth/refresh`;
      const good = { htm: 'POST', htu, iat: Math.floor(now() / 1000), jti: 'a-jti-long-enough' };
      const used = await key.proof({ htm: 'POST', htu });
      // Sign-up refuses this proof (its htu is the refresh URL); refresh takes it (spending its jti)
      // and refuses the bad token as a token (401). Replayed below, only the jti check refuses it.
      assert.equal((await env.http.post('/auth/register', { email: email(), password }, { headers: { dpop: used } })).status, 400, 'htu of another endpoint');
      const first = await refreshWith(env, 'not-a-refresh-token', used);
      assert.equal(first.status, 401, 'a valid proof with a bad token: the token is refused');
      assert.equal(problemCode(first), 'invalid-refresh-token');
      const cases: Array<[string, () => Promise<string>]> = [
        ['wrong htm', () => key.proof({ htm: 'PUT', htu })],
        ['wrong htu', () => key.proof({ htm: 'POST', htu: `${env.url}/auth/login` })],
        ['old iat', () => key.proof({ htm: 'POST', htu, iatMs: now() - 61_000 })],
        ['future iat', () => key.proof({ htm: 'POST', htu, iatMs: now() + 61_000 })],
        ['replayed jti', async () => used],
        ['signature altered', async () => { const p = await key.proof({ htm: 'POST', htu }); return p.slice(0, -4) + (p.endsWith('AAAA') ? 'BBBB' : 'AAAA'); }],
        ['alg none', async () => DeviceKey.unsigned({ typ: 'dpop+jwt', jwk: key.publicJwk }, good)],
        ['HS256', async () => DeviceKey.hs256({ typ: 'dpop+jwt', jwk: key.publicJwk }, good, JSON.stringify(key.publicJwk))],
        ['private key in the header', async () => key.proof({ htm: 'POST', htu, header: { jwk: await key.privateJwk() } })],
        ['malformed JWK', () => key.proof({ htm: 'POST', htu, header: { jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' } } })],
      ];
      for (const [name, make] of cases) {
        for (const refreshToken of [bound.refreshToken, 'x'.repeat(40)]) {
          const res = await refreshWith(env, refreshToken, await make());
          assert.equal(res.status, 400, `${name}: ${res.text}`);
          assert.equal(problemCode(res), 'invalid-dpop-proof', name);
          assert.equal(res.body.status, 400, name);
          assert.equal(res.body.error, 'invalid_dpop_proof', name);
          assert.equal(res.headers.get('www-authenticate'), null, name);
          assert.ok(res.headers.get('date'), `${name}: the server's time, for a client with a skewed clock`);
        }
      }
      // None of that was a use of the token: nothing recorded, and the device refreshes with it.
      assert.deepEqual(await env.app.sessiond.events.list({ sessionId: bound.sessionId, type: 'refresh_token.unbound_use' }, 10), []);
      assert.equal((await refreshWith(env, bound.refreshToken, await key.proof({ htm: 'POST', htu }))).status, 200);
    });

    test('refresh: a bound session needs a proof by its key; a thief in another process is refused and recorded, the device goes on', async (t) => {
      const started = await startBound(t, backend);
      if (!started) return;
      const { env, now, key, bound } = started;
      const htu = `${env.url}/auth/refresh`;
      // The thief: another OS process holding only the copied refresh token (no key), then its own key.
      const thiefKey = await DeviceKey.generate(now);
      const thiefProof = await thiefKey.proof({ htm: 'POST', htu });
      const thief = async (proof?: string) => {
        const script = `const r = await fetch(process.argv[1], { method: 'POST', headers: { 'content-type': 'application/json', ...(process.argv[3] ? { dpop: process.argv[3] } : {}) }, body: JSON.stringify({ refreshToken: process.argv[2] }) }); console.log(JSON.stringify({ status: r.status, body: await r.text() }));`;
        const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, htu, bound.refreshToken, proof ?? ''], { timeout: 20_000 });
        return JSON.parse(stdout) as { status: number; body: string };
      };
      const invalidToken = await refreshWith(env, 'x'.repeat(40));
      for (const attempt of [await thief(), await thief(thiefProof)]) {
        assert.equal(attempt.status, 401, attempt.body);
        const body = JSON.parse(attempt.body);
        // Exactly the answer to a token that does not exist: the thief learns nothing.
        assert.deepEqual({ ...body, instance: undefined }, { ...invalidToken.body, instance: undefined });
      }
      const events = await env.app.sessiond.events.list({ sessionId: bound.sessionId, type: 'refresh_token.unbound_use' }, 10);
      assert.deepEqual(events.map((e) => e.data.proof), ['missing', 'other_key']);
      assert.equal(events[0]!.data.generation, 0);
      // Visible in the audit log of the admin API.
      const { secret } = await env.app.sessiond.adminKeys.create('t', now());
      const audit = await env.http.get(`/admin/events?sessionId=${bound.sessionId}&type=refresh_token.unbound_use`, { headers: { 'x-admin-key': secret } });
      assert.equal(audit.status, 200, audit.text);
      assert.equal(audit.body.data.length, 2);
      // And in the devices list, on that session only: how many attempts, and the latest.
      const seen = await dpopGet(env, key, bound.accessToken, '/sessions');
      assert.equal(seen.status, 200, seen.text);
      const row = seen.body.data.find((s: any) => s.id === bound.sessionId);
      assert.equal(row.unboundUseCount, 2);
      assert.equal(row.lastUnboundUseAt, new Date(now()).toISOString());
      const plain = await registerUser(env.http);
      const plainList = await env.http.get('/sessions', { token: plain.accessToken });
      assert.equal('unboundUseCount' in plainList.body.data[0] || 'lastUnboundUseAt' in plainList.body.data[0], false, 'absent where there was no attempt');
      const adminView = await env.http.get(`/admin/users/${jwtPayload(bound.accessToken).sub}/sessions`, { headers: { 'x-admin-key': secret } });
      assert.equal(adminView.status, 200, adminView.text);
      assert.equal(adminView.body.data[0].unboundUseCount, 2);

      // The session was not extended or rotated: the real device refreshes with the same token, and on.
      let refreshToken = bound.refreshToken;
      for (let i = 0; i < 3; i++) {
        env.clock.advanceSeconds(30);
        const res = await refreshWith(env, refreshToken, await key.proof({ htm: 'POST', htu }));
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.tokenType, 'DPoP');
        assert.equal(jwtPayload(res.body.accessToken).cnf.jkt, key.jkt);
        refreshToken = res.body.refreshToken;
        assert.equal((await dpopGet(env, key, res.body.accessToken)).status, 200);
      }
      // A bound session's refresh with a bad proof: the proof's own error, whatever the token.
      const stale = await refreshWith(env, refreshToken, await key.proof({ htm: 'POST', htu, iatMs: now() - 120_000 }));
      assert.equal(stale.status, 400);
      assert.equal(problemCode(stale), 'invalid-dpop-proof');
      const list = await env.http.get('/sessions', { headers: { authorization: `DPoP ${(await refreshWith(env, refreshToken, await key.proof({ htm: 'POST', htu }))).body.accessToken}`, dpop: 'x' } });
      assert.equal(list.status, 401);
    });

    test("the device event stream of a bound token closes when that token expires, as a bearer token's does", { timeout: 60_000 }, async (t) => {
      const env = await startApp(t, backend, { config: { accessTokenTtlSeconds: 2 } });
      if (!env) return;
      const key = await DeviceKey.generate(() => env.clock.now());
      const bound = await signUpBound(env, key);
      const url = `${env.url}/sessions/events`;
      const stream = await openSse(url, { authorization: `DPoP ${bound.accessToken}`, dpop: await key.proof({ htm: 'GET', htu: url, accessToken: bound.accessToken }) });
      t.after(() => stream.close());
      assert.equal(stream.status, 200);
      await stream.next('ready');
      // Real time: the stream's timer runs to the token's expiry (2 s); generous bound for a loaded machine.
      const closed = await Promise.race([stream.closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000).unref())]);
      assert.equal(closed, true, 'the stream outlived the access token that opened it');
    });

    test('server nonces: DPOP_REQUIRE_NONCE asks for one (use_dpop_nonce + DPoP-Nonce) and refuses stale ones', async (t) => {
      const env = await startApp(t, backend, { config: { dpop: { required: false, requireNonce: true, iatWindowSeconds: 60 } } });
      if (!env) return;
      const key = await DeviceKey.generate(() => env.clock.now());
      const htu = `${env.url}/auth/register`;
      const body = { email: email(), password };
      const first = await env.http.post('/auth/register', body, { headers: { dpop: await key.proof({ htm: 'POST', htu }) } });
      // A token endpoint's nonce demand (RFC 9449 §8): 400 use_dpop_nonce with DPoP-Nonce, no challenge.
      assert.equal(first.status, 400);
      assert.equal(problemCode(first), 'use-dpop-nonce');
      assert.equal(first.body.error, 'use_dpop_nonce', 'what OAuth DPoP clients look for to retry with the nonce');
      assert.equal(first.headers.get('www-authenticate'), null);
      const nonce = first.headers.get('dpop-nonce');
      assert.ok(nonce);
      const second = await env.http.post('/auth/register', body, { headers: { dpop: await key.proof({ htm: 'POST', htu, nonce }) } });
      assert.equal(second.status, 201, second.text);
      assert.ok(second.headers.get('dpop-nonce'), 'a fresh nonce comes with every answer');
      // A resource request's (RFC 9449 §9): 401 with the challenge and DPoP-Nonce.
      const forged = await dpopGet(env, key, second.body.accessToken, '/auth/me', { nonce: `${nonce.split('.')[0]}.${'A'.repeat(22)}` });
      assert.equal(forged.status, 401);
      assert.equal(problemCode(forged), 'use-dpop-nonce');
      assert.match(forged.headers.get('www-authenticate') ?? '', /^DPoP error="use_dpop_nonce"/);
      assert.ok(forged.headers.get('dpop-nonce'));
      env.clock.advanceSeconds(150); // two slots later: stale
      const stale = await dpopGet(env, key, second.body.accessToken, '/auth/me', { nonce });
      assert.equal(stale.status, 401);
      assert.equal(problemCode(stale), 'use-dpop-nonce');
      const fresh = stale.headers.get('dpop-nonce')!;
      assert.notEqual(fresh, nonce);
      assert.equal((await dpopGet(env, key, second.body.accessToken, '/auth/me', { nonce: fresh })).status, 200);
    });

    test('REQUIRE_DPOP: sign-up and sign-in without a proof are refused', async (t) => {
      const env = await startApp(t, backend, { config: { dpop: { required: true, requireNonce: false, iatWindowSeconds: 60 } } });
      if (!env) return;
      const body = { email: email(), password };
      const refused = await env.http.post('/auth/register', body);
      assert.equal(refused.status, 400);
      assert.equal(problemCode(refused), 'invalid-dpop-proof');
      const key = await DeviceKey.generate(() => env.clock.now());
      const ok = await env.http.post('/auth/register', body, { headers: { dpop: await key.proof({ htm: 'POST', htu: `${env.url}/auth/register` }) } });
      assert.equal(ok.status, 201);
      assert.equal((await env.http.post('/auth/login', body)).status, 400);
    });

    test('behind a trusted proxy, htu is the external URL (X-Forwarded-Proto and -Host)', async (t) => {
      const env = await startApp(t, backend, { config: { trustProxy: ['127.0.0.1'] } });
      if (!env) return;
      const key = await DeviceKey.generate(() => env.clock.now());
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'sessions.example.com' };
      const res = await env.http.post('/auth/register', { email: email(), password }, {
        headers: { ...forwarded, dpop: await key.proof({ htm: 'POST', htu: 'https://sessions.example.com/auth/register' }) },
      });
      assert.equal(res.status, 201, res.text);
      const internal = await key.proof({ htm: 'GET', htu: `${env.url}/auth/me`, accessToken: res.body.accessToken });
      const refused = await env.http.get('/auth/me', { headers: { ...forwarded, authorization: `DPoP ${res.body.accessToken}`, dpop: internal } });
      assert.equal(refused.status, 401);
      const external = await key.proof({ htm: 'GET', htu: 'https://sessions.example.com/auth/me', accessToken: res.body.accessToken });
      assert.equal((await env.http.get('/auth/me', { headers: { ...forwarded, authorization: `DPoP ${res.body.accessToken}`, dpop: external } })).status, 200);
    });

    test('with PUBLIC_URL, htu is that URL plus the path, whatever the Host header says', async (t) => {
      const env = await startApp(t, backend, { config: { publicUrl: 'https://auth.example.com' } });
      if (!env) return;
      const key = await DeviceKey.generate(() => env.clock.now());
      const refused = await env.http.post('/auth/register', { email: email(), password }, { headers: { dpop: await key.proof({ htm: 'POST', htu: `${env.url}/auth/register` }) } });
      assert.equal(refused.status, 400);
      assert.equal(problemCode(refused), 'invalid-dpop-proof');
      const res = await env.http.post('/auth/register', { email: email(), password }, { headers: { dpop: await key.proof({ htm: 'POST', htu: 'https://auth.example.com/auth/register' }) } });
      assert.equal(res.status, 201, res.text);
    });
  });
}
