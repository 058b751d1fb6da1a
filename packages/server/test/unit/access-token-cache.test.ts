import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { createAccessTokens, InvalidTokenError, type AccessTokenOptions } from '../../src/tokens/access-tokens.ts';
import { generateKeyMaterial, generateSigningKey, type KeyMaterial } from '../../src/tokens/key-store.ts';
import { TestClock } from '../helpers/clock.ts';

/**
 * The verified-token cache of tokens/access-tokens.ts: a token's signature is checked once, later
 * presentations of the same string are answered from the cache. These tests pin down why that is
 * safe: only genuine tokens get in, and expiry and key retirement still apply to cached ones.
 */

const options: AccessTokenOptions = { issuer: 'sessiond', audience: 'sessiond', ttlSeconds: 900 };
const userId = crypto.randomUUID();
const sessionId = crypto.randomUUID();

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (token: string) => token.split('.') as [string, string, string];
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

/** Signs header.payload with an Ed25519 private key of our choosing (an attacker's, or ours). */
function signEdDSA(header: object, payload: object, privateJwk: crypto.JsonWebKey): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const key = crypto.createPrivateKey({ key: privateJwk, format: 'jwk' });
  return `${input}.${crypto.sign(null, Buffer.from(input), key).toString('base64url')}`;
}

async function refuses(verify: Promise<unknown>, label: string) {
  await assert.rejects(verify, InvalidTokenError, label);
}

function setup(overrides: Partial<AccessTokenOptions> = {}) {
  const clock = new TestClock();
  const keys = generateKeyMaterial(clock.now());
  const tokens = createAccessTokens(keys, { ...options, ...overrides }, clock);
  return { clock, keys, tokens };
}

describe('verified-token cache', () => {
  test('a genuine token is verified once, then answered from the cache with the same frozen claims', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue(userId, sessionId, { authMethod: 'password' });
    assert.equal(tokens.cachedTokenCount(), 0, 'issuing does not cache: only verification does');
    const first = await tokens.verify(token);
    assert.equal(tokens.cachedTokenCount(), 1);
    const second = await tokens.verify(token);
    assert.equal(second, first, 'the second answer is the cached object');
    assert.deepEqual({ ...second }, { userId, sessionId, expiresAtMs: first.expiresAtMs });
    assert.ok(Object.isFrozen(second), 'a caller cannot alter what the next request is told');
  });

  test('alg:none, forged, altered and foreign tokens are refused and never enter the cache', async () => {
    const { clock, keys, tokens } = setup();
    const { token } = await tokens.issue(userId, sessionId, { authMethod: 'password' });
    await tokens.verify(token);
    assert.equal(tokens.cachedTokenCount(), 1);
    const [header, payload, signature] = parts(token);
    const claims = decode(payload);
    const kid = decode(header).kid;
    const ours = keys.signingKeys[0]!;
    const attacker = generateSigningKey(clock.now());
    const publicJwk = { kty: ours.privateJwk.kty, crv: ours.privateJwk.crv, x: ours.privateJwk.x };
    const hs256 = (h: object, p: object) => {
      const input = `${b64(h)}.${b64(p)}`;
      return `${input}.${crypto.createHmac('sha256', JSON.stringify(publicJwk)).update(input).digest('base64url')}`;
    };
    const flip = (s: string) => s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);

    const hostile: Array<[string, string]> = [
      ['alg:none, no signature', `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${payload}.`],
      ['alg:none with the genuine signature', `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${payload}.${signature}`],
      ['alg:none, lower-case variants', `${b64({ alg: 'None', typ: 'at+jwt', kid })}.${payload}.${signature}`],
      ['signature altered', `${header}.${payload}.${flip(signature)}`],
      ['payload altered (another user), genuine signature', `${header}.${b64({ ...claims, sub: crypto.randomUUID() })}.${signature}`],
      ['payload altered (longer expiry), genuine signature', `${header}.${b64({ ...claims, exp: Number(claims.exp) + 86_400 })}.${signature}`],
      ['signed by an attacker key under our kid', signEdDSA({ alg: 'EdDSA', typ: 'at+jwt', kid }, claims, attacker.privateJwk)],
      ['signed by an attacker key under its own kid', signEdDSA({ alg: 'EdDSA', typ: 'at+jwt', kid: attacker.kid }, claims, attacker.privateJwk)],
      ['HS256 keyed with our public key (key confusion)', hs256({ alg: 'HS256', typ: 'at+jwt', kid }, claims)],
      ['our key, wrong typ', signEdDSA({ alg: 'EdDSA', typ: 'JWT', kid }, claims, ours.privateJwk)],
      ['our key, wrong audience', signEdDSA({ alg: 'EdDSA', typ: 'at+jwt', kid }, { ...claims, aud: 'other' }, ours.privateJwk)],
      ['our key, no expiry', signEdDSA({ alg: 'EdDSA', typ: 'at+jwt', kid }, { ...claims, exp: undefined }, ours.privateJwk)],
      ['the genuine token with trailing garbage', `${token}x`],
      ['the genuine token with a leading space', ` ${token}`],
    ];
    for (const [label, forged] of hostile) {
      // Twice: a refusal must not be remembered as anything either.
      await refuses(tokens.verify(forged), label);
      await refuses(tokens.verify(forged), `${label} (again)`);
      assert.equal(tokens.cachedTokenCount(), 1, `${label}: not cached`);
    }
    assert.deepEqual((await tokens.verify(token)).sessionId, sessionId, 'the genuine token still verifies');
  });

  test('an expired cached token is refused, at exactly its exp as jose would, and leaves the cache', async () => {
    const { clock, tokens } = setup({ ttlSeconds: 60 });
    const { token } = await tokens.issue(userId, sessionId, { authMethod: 'password' });
    const claims = await tokens.verify(token);
    clock.advance(claims.expiresAtMs - clock.now() - 1);
    assert.equal(await tokens.verify(token), claims, '1 ms before exp: still valid (cached)');
    clock.advance(1);
    await refuses(tokens.verify(token), 'at exp: expired');
    assert.equal(tokens.cachedTokenCount(), 0, 'the expired entry is dropped');
    await refuses(tokens.verify(token), 'and stays refused through the full check');
    assert.equal(tokens.cachedTokenCount(), 0);
  });

  test('after its key is retired, a cached token is refused although it has not expired', async () => {
    const clock = new TestClock();
    const old = generateKeyMaterial(clock.now());
    // A late instance still signing with the old key issues a long-lived token...
    const lateIssuer = createAccessTokens(old, { ...options, ttlSeconds: 3600 }, clock);
    const { token } = await lateIssuer.issue(userId, sessionId, { authMethod: 'password' });
    // ...which this instance, where a successor key appeared just now, accepts and caches.
    const rotated: KeyMaterial = { ...old, signingKeys: [generateSigningKey(clock.now()), ...old.signingKeys] };
    const tokens = createAccessTokens(rotated, { ...options, ttlSeconds: 60 }, clock);
    await tokens.verify(token);
    assert.equal(tokens.cachedTokenCount(), 1);
    // The old key retires one token lifetime (60 s) + 120 s after its successor appeared.
    clock.advanceSeconds(180 - 1);
    assert.equal((await tokens.verify(token)).sessionId, sessionId, 'before retirement: accepted');
    clock.advanceSeconds(1);
    await refuses(tokens.verify(token), 'retired key: refused from the cache too');
    assert.equal(tokens.cachedTokenCount(), 0);
  });

  test('setKeys empties the cache: a token of a key that left the key set is refused', async () => {
    const { clock, keys, tokens } = setup();
    const { token } = await tokens.issue(userId, sessionId, { authMethod: 'password' });
    await tokens.verify(token);
    // Rotation: the old key still verifies, but every result is re-derived under the new set.
    tokens.setKeys({ ...keys, signingKeys: [generateSigningKey(clock.now()), ...keys.signingKeys] });
    assert.equal(tokens.cachedTokenCount(), 0);
    assert.equal((await tokens.verify(token)).sessionId, sessionId, 'the previous key still verifies after a rotation');
    // A key file without the old key (e.g. it was compromised and removed by hand).
    tokens.setKeys(generateKeyMaterial(clock.now()));
    assert.equal(tokens.cachedTokenCount(), 0);
    await refuses(tokens.verify(token), 'a token of a removed key');
  });

  test('bounded: never more than maxEntries tokens; evicted tokens still verify; 0 turns it off', async () => {
    const { tokens } = setup({ verifiedCacheMaxEntries: 3 });
    const issued = await Promise.all(Array.from({ length: 5 }, () => tokens.issue(userId, crypto.randomUUID(), { authMethod: 'password' })));
    for (const { token } of issued) await tokens.verify(token);
    assert.equal(tokens.cachedTokenCount(), 3);
    for (const { token } of issued) await tokens.verify(token);
    assert.equal(tokens.cachedTokenCount(), 3);

    const off = setup({ verifiedCacheMaxEntries: 0 }).tokens;
    const { token } = await off.issue(userId, sessionId, { authMethod: 'password' });
    assert.equal((await off.verify(token)).sessionId, sessionId);
    assert.equal(off.cachedTokenCount(), 0);
  });

  test('at capacity, expired entries are evicted before live ones', async () => {
    const { clock, tokens } = setup({ ttlSeconds: 60, verifiedCacheMaxEntries: 3 });
    const early = await tokens.issue(userId, crypto.randomUUID(), { authMethod: 'password' });
    await tokens.verify(early.token);
    clock.advanceSeconds(30);
    const live = await Promise.all([tokens.issue(userId, crypto.randomUUID(), { authMethod: 'password' }), tokens.issue(userId, crypto.randomUUID(), { authMethod: 'password' })]);
    const liveClaims = [];
    for (const { token } of live) liveClaims.push(await tokens.verify(token));
    clock.advanceSeconds(31); // `early` has expired, the other two have not
    const next = await tokens.issue(userId, crypto.randomUUID(), { authMethod: 'password' });
    await tokens.verify(next.token);
    assert.equal(tokens.cachedTokenCount(), 3);
    for (const [i, { token }] of live.entries()) {
      assert.equal(await tokens.verify(token), liveClaims[i], 'a live token kept its entry (the same object is a hit)');
    }
  });
});
