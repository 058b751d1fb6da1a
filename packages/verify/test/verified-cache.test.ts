// The verified-token cache of @sessiond/verify (src/token-cache.ts) against a real sessiond: a cache
// hit never skips what can change after a token was verified. Each test first makes the token a hit
// (status().cachedTokens), then changes the world: the clock passes exp, the signing key is
// withdrawn, the session is revoked, the stream goes silent; the hit must be refused every time.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { TestClock } from '../../server/test/helpers/clock.ts';
import { login, registerUser } from '../../server/test/helpers/http.ts';
import { serviceKeysOf } from '../../server/test/helpers/service-keys.ts';
import { generateKeyMaterial } from '../../server/src/tokens/key-store.ts';
import { createVerifier, VerifyError, type VerifierOptions, type VerifyErrorCode } from '../src/index.ts';
import { startStreamProxy } from './fixtures/processes.ts';

async function setUp(t: TestContext, options: Partial<VerifierOptions> & { viaProxy?: boolean } = {}) {
  const s = await startApp(t, 'sqlite', { clock: new TestClock(Date.now()) });
  assert.ok(s);
  const keys = serviceKeysOf(() => s.app);
  const proxy = options.viaProxy ? await startStreamProxy(t, new URL(s.url)) : undefined;
  let offsetMs = 0;
  const verifier = await createVerifier({ baseUrl: proxy?.url ?? s.url, serviceKey: await keys.create(), now: () => Date.now() + offsetMs, ...options });
  t.after(() => verifier.close());
  return {
    s,
    proxy,
    verifier,
    advance(ms: number) {
      offsetMs += ms;
    },
  };
}

const refusedWith = (code: VerifyErrorCode) => (e: unknown) => e instanceof VerifyError && e.code === code;

async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Verifies twice: the second call is a cache hit (the cache holds it and nothing else was added). */
async function makeHit(verifier: Awaited<ReturnType<typeof createVerifier>>, token: string) {
  await verifier.verify(`Bearer ${token}`);
  const cached = verifier.status().cachedTokens;
  assert.ok(cached >= 1, 'the token is cached after its first check');
  await verifier.verify(token);
  assert.equal(verifier.status().cachedTokens, cached, 'the second check was a hit');
}

test('cache: a hit answers the same session; another string (tampered) is a miss and refused; bounded', async (t) => {
  const { s, verifier } = await setUp(t, { verifiedCacheMaxEntries: 2 });
  const a = await registerUser(s.http);
  await makeHit(verifier, a.accessToken);
  const again = await verifier.verify(a.accessToken);
  assert.equal(again.sessionId, a.sessionId);
  assert.ok(Object.isFrozen(again.claims), 'claims handed out from the cache cannot be altered for the next caller');
  const tampered = a.accessToken.slice(0, -4) + (a.accessToken.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  await assert.rejects(verifier.verify(tampered), refusedWith('invalid_token'));
  // Same signature segment (the cache's index), other payload: still a different string, so a miss.
  const [h, p, sig] = a.accessToken.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const otherPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
  await assert.rejects(verifier.verify(`${h}.${otherPayload}.${sig}`), refusedWith('invalid_token'));
  assert.equal((await verifier.verify(a.accessToken)).userId, a.userId, 'the cached token is still a hit after that miss');
  for (let i = 0; i < 3; i++) await verifier.verify((await login(s.http, a)).accessToken);
  assert.equal(verifier.status().cachedTokens, 2, 'never more than verifiedCacheMaxEntries');
});

test('cache: an expired token is refused on a hit (exp re-checked against the clock)', async (t) => {
  const { s, verifier, advance } = await setUp(t);
  const a = await registerUser(s.http);
  await makeHit(verifier, a.accessToken);
  // Past exp on the verifier's clock only: sessiond (not moved) would still call the session valid,
  // so only the hit's own exp check can refuse it.
  advance(16 * 60_000);
  await assert.rejects(verifier.verify(a.accessToken), refusedWith('expired'));
});

test('cache: a token whose signing key was withdrawn is refused on a hit, by the periodic JWKS read and by a new kid', async (t) => {
  const { s, verifier } = await setUp(t, { jwksRefreshMs: 200 });
  const slow = await createVerifier({ baseUrl: s.url, serviceKey: await serviceKeysOf(() => s.app).create() }); // default 60 s refresh
  t.after(() => slow.close());
  const a = await registerUser(s.http);
  await makeHit(verifier, a.accessToken);
  await makeHit(slow, a.accessToken);
  // The key that signed `a` leaves the key set (an emergency rotation): sessiond's JWKS drops it.
  s.app.sessiond.accessTokens.setKeys(generateKeyMaterial(s.clock.now()));
  await eventually('the periodic JWKS read refuses the withdrawn key', async () => {
    const r = await verifier.verify(a.accessToken).then(() => 'accepted', (e: VerifyError) => e.code);
    assert.ok(r === 'accepted' || r === 'invalid_token', r);
    return r === 'invalid_token';
  }, 5000);
  // The other verifier learns of the new key set from a token of the new key (an unknown kid).
  const b = await registerUser(s.http);
  assert.equal((await slow.verify(b.accessToken)).sessionId, b.sessionId);
  await assert.rejects(slow.verify(a.accessToken), refusedWith('invalid_token'));
});

test('cache: a revoked session is refused on a hit (the revocation memory is asked on every call)', async (t) => {
  const { s, verifier } = await setUp(t);
  const a = await registerUser(s.http);
  const b = await login(s.http, a);
  await makeHit(verifier, a.accessToken);
  assert.equal((await s.http.delete(`/sessions/${a.sessionId}`, { token: b.accessToken })).status, 200);
  await eventually('the stream reports the revocation', async () => verifier.status().revokedCount >= 1, 5000);
  await assert.rejects(verifier.verify(a.accessToken), refusedWith('revoked'));
  assert.equal((await verifier.verify(b.accessToken)).sessionId, b.sessionId);
});

test('cache: with a silent stream a hit falls back to validate (staleness is checked on every call)', async (t) => {
  const { s, verifier, proxy } = await setUp(t, { viaProxy: true, maxStalenessMs: 500 });
  const a = await registerUser(s.http);
  const b = await login(s.http, a);
  await makeHit(verifier, a.accessToken);
  // Frozen: the connection stays open and says nothing more, so memory never hears of the revocation.
  proxy!.freezeStreams();
  assert.equal((await s.http.delete(`/sessions/${a.sessionId}`, { token: b.accessToken })).status, 200);
  await eventually('the stale memory stops vouching and validate refuses', async () => {
    const r = await verifier.verify(a.accessToken).then(() => 'accepted', (e: VerifyError) => e.code);
    assert.ok(r === 'accepted' || r === 'revoked', r);
    return r === 'revoked';
  }, 5000);
  assert.equal(verifier.status().trusted, false);
  assert.equal((await verifier.verify(b.accessToken)).sessionId, b.sessionId, 'a live session is still accepted (validated)');
});
