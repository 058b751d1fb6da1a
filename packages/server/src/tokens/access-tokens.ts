import crypto from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../clock.ts';
import { canonicalUuidRegex } from '../http/uuid.ts';
import { isCanonicalBase64url } from './base64url.ts';
import { retireAfterMs, type KeyMaterial } from './key-store.ts';

/** What a verified access token tells us. */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  expiresAtMs: number;
  /**
   * `cnf.jkt` (RFC 9449 §6.1): the thumbprint of the device key the token is bound to. Present, the
   * token is accepted only with a DPoP proof by that key (dpop/dpop-http.ts), never as a bearer token.
   */
  jkt?: string;
}

export interface AccessTokenOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /**
   * Bound of the verified-token cache (see `VerifiedTokenCache`); 0 turns it off, so every request
   * verifies the signature. Default 10,000 tokens (about 7 MB).
   */
  verifiedCacheMaxEntries?: number;
}

export const DEFAULT_VERIFIED_CACHE_MAX_ENTRIES = 10_000;

/**
 * Pinned to EdDSA. The verifier, never the token header, chooses the algorithm (RFC 8725 §3.1):
 * `alg: none`, HS256 signed with our public key (key confusion), or any other algorithm is refused
 * before a key is even looked up.
 */
const ALGORITHM = 'EdDSA';
/** RFC 9068 token type: keeps access tokens from being confused with any other JWT we might issue. */
const TOKEN_TYPE = 'at+jwt';
/** Larger tokens are refused before parsing (parsing-DoS class of CVE-2025-30204). */
export const MAX_TOKEN_LENGTH = 4096;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const JKT = /^[A-Za-z0-9_-]{43}$/;

export class InvalidTokenError extends Error {}

/**
 * The `amr` claim (RFC 8176: an array of authentication method references) for a session's
 * authMethod. sessiond's own password sign-in is the registered value `pwd`; a method named by the
 * application's backend (`oauth:google`, `saml`, `magic_link`) is passed on as it is: RFC 8176
 * lets issuer and consumers agree on values outside its registry.
 */
export function amrOf(authMethod: string): string[] {
  return [authMethod === 'password' ? 'pwd' : authMethod];
}

export interface AccessTokens {
  /**
   * Signs a token for the session; returns it with its lifetime in seconds. `authMethod` (how the
   * session's user signed in) becomes the `amr` claim (amrOf); `notAfterMs` (the session's own
   * expiry, idle or absolute) caps the token's `exp`.
   */
  issue(userId: string, sessionId: string, options: { authMethod: string; notAfterMs?: number; /** The device key the session is bound to (DPoP): becomes `cnf.jkt`. */ jkt?: string | null | undefined }): Promise<{ token: string; expiresInSeconds: number }>;
  /** Verifies signature, algorithm, type, issuer, audience and expiry; throws InvalidTokenError. */
  verify(token: string): Promise<AccessClaims>;
  /**
   * The claims of a token this process has already verified and that is still good (unexpired, its
   * key live), synchronously; undefined for anything else, which only `verify` may judge.
   */
  verifyCached(token: string): AccessClaims | undefined;
  /** The public keys that currently verify, as a JWKS document. */
  jwks(): { keys: crypto.JsonWebKey[] };
  /** Replaces the key set (after `sessiond keys rotate` changed the key file); empties the verified-token cache. */
  setKeys(keys: KeyMaterial): void;
  /** How many tokens the verified-token cache holds now (for tests and metrics). */
  cachedTokenCount(): number;
}

/**
 * Key rotation: keys are newest first; the newest signs. An older key keeps verifying until its
 * successor has existed for `retireAfterMs` (the token lifetime plus slack for instances that
 * picked up the new key late), by which time every token it signed has expired. After that it is
 * retired: it no longer verifies and leaves the JWKS, even if it is still in the file.
 */
interface ActiveKey {
  kid: string;
  publicKey: crypto.KeyObject;
  jwk: crypto.JsonWebKey;
  /** Verifies tokens until this instant (Infinity for the current key). */
  retiresAtMs: number;
}

/** A token that passed full verification, and the key that verified it. */
interface VerifiedToken {
  claims: Readonly<AccessClaims>;
  kid: string;
}

/**
 * Verified-token cache. An Ed25519 signature check costs tens of microseconds, several times the
 * rest of a session check, and a client presents the same access token on every request for its
 * whole lifetime; so each token's signature is checked once per process and later presentations of
 * the very same string reuse the result. Why that is safe:
 *
 * 1. The key is the whole token string. Only a string that passed full verification (signature,
 *    pinned algorithm, kid, typ, iss, aud, exp, claim shapes) is ever inserted. Anything else, an
 *    `alg: none` variant, a forged or altered signature, a changed header or payload, is a
 *    different string: a miss, so it gets the full check and is refused. A hit is byte-for-byte a
 *    token that we already know we signed.
 * 2. Everything that can turn a once-valid token invalid is re-checked on every hit:
 *    - expiry, against the injected clock, with jose's own rule (valid while now < exp);
 *    - the key: its kid must still be in the current key set and not retired at this instant,
 *      so key retirement takes effect on cached tokens at the same moment as on fresh ones;
 *    - `setKeys` (a rotation or a replaced key file) empties the cache altogether.
 *    Nothing else about a token can change: its claims are signed.
 * 3. Revocation is not the verifier's job and is not cached here: every request still asks the
 *    session check (`SessionService.authenticate`) whether the token's session is live.
 * 4. Bounded: at most `maxEntries` tokens. Insertion order is roughly expiry order (tokens are
 *    first seen just after they are issued), so the oldest entries are evicted first, expired ones
 *    before anything else; an evicted token is simply verified again.
 * 5. A cached entry is frozen: no caller can alter what the next request will be told.
 */
class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(private readonly maxEntries: number) {}

  get(token: string): VerifiedToken | undefined {
    return this.entries.get(token);
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  add(token: string, entry: VerifiedToken, nowMs: number): void {
    if (this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      // Drop expired entries from the old end first, then, if still full, the oldest one.
      for (const [oldToken, old] of this.entries) {
        if (this.entries.size < this.maxEntries && nowMs < old.claims.expiresAtMs) break;
        this.entries.delete(oldToken);
      }
    }
    this.entries.set(token, entry);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

export function createAccessTokens(initialKeys: KeyMaterial, options: AccessTokenOptions, clock: Clock): AccessTokens {
  const retireAfterMsValue = retireAfterMs(options.ttlSeconds);
  let signing!: { kid: string; key: crypto.KeyObject };
  let verifying = new Map<string, ActiveKey>();
  const verified = new VerifiedTokenCache(options.verifiedCacheMaxEntries ?? DEFAULT_VERIFIED_CACHE_MAX_ENTRIES);

  function load(keys: KeyMaterial) {
    const first = keys.signingKeys[0];
    if (!first) throw new Error('key material has no signing key');
    const next = new Map<string, ActiveKey>();
    keys.signingKeys.forEach((k, i) => {
      const publicKey = crypto.createPublicKey({ key: k.privateJwk, format: 'jwk' });
      const successor = i === 0 ? undefined : keys.signingKeys[i - 1];
      next.set(k.kid, {
        kid: k.kid,
        publicKey,
        jwk: { ...publicKey.export({ format: 'jwk' }), kid: k.kid, alg: ALGORITHM, use: 'sig' },
        retiresAtMs: successor ? successor.createdAtMs + retireAfterMsValue : Number.POSITIVE_INFINITY,
      });
    });
    signing = { kid: first.kid, key: crypto.createPrivateKey({ key: first.privateJwk, format: 'jwk' }) };
    verifying = next;
    // A new key set may have dropped a key: forget every result obtained with the old set.
    verified.clear();
  }
  load(initialKeys);

  const live = (k: ActiveKey | undefined) => (k && clock.now() < k.retiresAtMs ? k : undefined);
  /** What a cache hit re-checks every time (see VerifiedTokenCache): expiry with jose's rule, and the key. */
  const stillGood = (hit: VerifiedToken) => {
    const nowMs = clock.now();
    const key = verifying.get(hit.kid);
    return nowMs < hit.claims.expiresAtMs && key !== undefined && nowMs < key.retiresAtMs;
  };

  return {
    async issue(userId, sessionId, issueOptions) {
      const nowSeconds = Math.floor(clock.now() / 1000);
      // A token never outlives its session's expiry as known at issue time. The session's expiry only
      // moves later (activity pushes the idle limit, never pulls it), so a verifier elsewhere that
      // checks `exp` (@sessiond/verify) refuses an expired session's token without being told: idle
      // and absolute expiry need no revocation event to be enforced offline.
      const expSeconds = Math.min(nowSeconds + options.ttlSeconds, issueOptions.notAfterMs === undefined ? Infinity : Math.floor(issueOptions.notAfterMs / 1000));
      const token = await new SignJWT({ sid: sessionId, amr: amrOf(issueOptions.authMethod), ...(issueOptions.jkt ? { cnf: { jkt: issueOptions.jkt } } : {}) })
        .setProtectedHeader({ alg: ALGORITHM, kid: signing.kid, typ: TOKEN_TYPE })
        .setSubject(userId)
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt(nowSeconds)
        .setExpirationTime(expSeconds)
        .setJti(crypto.randomUUID())
        .sign(signing.key);
      return { token, expiresInSeconds: expSeconds - nowSeconds };
    },

    verifyCached(token) {
      const hit = verified.get(token);
      // An entry that fails the re-checks is verify()'s to drop (and refuse).
      return hit && stillGood(hit) ? hit.claims : undefined;
    },

    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('malformed token');
      const hit = verified.get(token);
      if (hit) {
        if (stillGood(hit)) return hit.claims;
        verified.delete(token);
        throw new InvalidTokenError('token expired or its key retired');
      }
      if (!JWT_SHAPE.test(token)) throw new InvalidTokenError('malformed token');
      // One spelling per token: the spare bits of each part's last character must be zero
      // (tokens/base64url.ts); jose would accept all 16 spellings of a signature.
      if (!token.split('.').every(isCanonicalBase64url)) throw new InvalidTokenError('malformed token');
      let payload: JWTPayload;
      let kid = '';
      try {
        ({ payload } = await jwtVerify(
          token,
          // Keys come only from our own key file; an unknown kid (or an embedded jwk/jku) never
          // selects a key. jose also refuses `crit` headers it does not understand.
          (header) => {
            const key = typeof header.kid === 'string' ? live(verifying.get(header.kid)) : undefined;
            if (!key) throw new InvalidTokenError('unknown or retired key id');
            kid = key.kid;
            return key.publicKey;
          },
          {
            algorithms: [ALGORITHM],
            issuer: options.issuer,
            audience: options.audience,
            typ: TOKEN_TYPE,
            requiredClaims: ['exp', 'iat', 'sub', 'sid'],
            currentDate: new Date(clock.now()),
          },
        ));
      } catch {
        throw new InvalidTokenError('token verification failed');
      }
      const { sub, sid, exp, cnf } = payload as JWTPayload & { sid?: unknown; cnf?: { jkt?: unknown } };
      if (typeof sub !== 'string' || typeof sid !== 'string' || !canonicalUuidRegex.test(sid) || typeof exp !== 'number') {
        throw new InvalidTokenError('token claims are malformed');
      }
      // A confirmation we cannot read is refused, never ignored: ignoring it would turn a bound
      // token into a bearer token.
      if (cnf !== undefined && (typeof cnf !== 'object' || cnf === null || typeof cnf.jkt !== 'string' || !JKT.test(cnf.jkt))) {
        throw new InvalidTokenError('token confirmation is malformed');
      }
      const base = { userId: sub, sessionId: sid, expiresAtMs: exp * 1000 };
      const claims: AccessClaims = Object.freeze(cnf ? { ...base, jkt: cnf.jkt as string } : base);
      verified.add(token, { claims, kid }, clock.now());
      return claims;
    },

    jwks() {
      return { keys: [...verifying.values()].filter((k) => live(k)).map((k) => k.jwk) };
    },

    setKeys(keys) {
      load(keys);
    },

    cachedTokenCount() {
      return verified.size;
    },
  };
}
