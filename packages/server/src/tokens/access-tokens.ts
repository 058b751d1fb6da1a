import crypto from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../clock.ts';
import type { KeyMaterial } from './key-store.ts';

/** What a verified access token tells us. */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  expiresAtMs: number;
}

export interface AccessTokenOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

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
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class InvalidTokenError extends Error {}

export interface AccessTokens {
  /** Signs a token for the session; returns it with its lifetime in seconds. */
  issue(userId: string, sessionId: string): Promise<{ token: string; expiresInSeconds: number }>;
  /** Verifies signature, algorithm, type, issuer, audience and expiry; throws InvalidTokenError. */
  verify(token: string): Promise<AccessClaims>;
  /** The public keys that currently verify, as a JWKS document. */
  jwks(): { keys: crypto.JsonWebKey[] };
  /** Replaces the key set (after `sessiond keys rotate` changed the key file). */
  setKeys(keys: KeyMaterial): void;
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

export function createAccessTokens(initialKeys: KeyMaterial, options: AccessTokenOptions, clock: Clock): AccessTokens {
  const retireAfterMs = (options.ttlSeconds + 120) * 1000;
  let signing!: { kid: string; key: crypto.KeyObject };
  let verifying = new Map<string, ActiveKey>();

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
        retiresAtMs: successor ? successor.createdAtMs + retireAfterMs : Number.POSITIVE_INFINITY,
      });
    });
    signing = { kid: first.kid, key: crypto.createPrivateKey({ key: first.privateJwk, format: 'jwk' }) };
    verifying = next;
  }
  load(initialKeys);

  const live = (k: ActiveKey | undefined) => (k && clock.now() < k.retiresAtMs ? k : undefined);

  return {
    async issue(userId, sessionId) {
      const nowSeconds = Math.floor(clock.now() / 1000);
      const token = await new SignJWT({ sid: sessionId })
        .setProtectedHeader({ alg: ALGORITHM, kid: signing.kid, typ: TOKEN_TYPE })
        .setSubject(userId)
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt(nowSeconds)
        .setExpirationTime(nowSeconds + options.ttlSeconds)
        .setJti(crypto.randomUUID())
        .sign(signing.key);
      return { token, expiresInSeconds: options.ttlSeconds };
    },

    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) throw new InvalidTokenError('malformed token');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(
          token,
          // Keys come only from our own key file; an unknown kid (or an embedded jwk/jku) never
          // selects a key. jose also refuses `crit` headers it does not understand.
          (header) => {
            const key = typeof header.kid === 'string' ? live(verifying.get(header.kid)) : undefined;
            if (!key) throw new InvalidTokenError('unknown or retired key id');
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
      const { sub, sid, exp } = payload as JWTPayload & { sid?: unknown };
      if (typeof sub !== 'string' || typeof sid !== 'string' || !UUID.test(sid) || typeof exp !== 'number') {
        throw new InvalidTokenError('token claims are malformed');
      }
      return { userId: sub, sessionId: sid, expiresAtMs: exp * 1000 };
    },

    jwks() {
      return { keys: [...verifying.values()].filter((k) => live(k)).map((k) => k.jwk) };
    },

    setKeys(keys) {
      load(keys);
    },
  };
}
