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
  /** The public keys, as a JWKS document. */
  jwks(): { keys: crypto.JsonWebKey[] };
}

export function createAccessTokens(keys: KeyMaterial, options: AccessTokenOptions, clock: Clock): AccessTokens {
  const signing = keys.signingKeys[0]!;
  const signingKey = crypto.createPrivateKey({ key: signing.privateJwk, format: 'jwk' });
  const publicKeys = new Map<string, crypto.KeyObject>();
  const publicJwks: crypto.JsonWebKey[] = [];
  for (const k of keys.signingKeys) {
    const pub = crypto.createPublicKey({ key: k.privateJwk, format: 'jwk' });
    publicKeys.set(k.kid, pub);
    publicJwks.push({ ...pub.export({ format: 'jwk' }), kid: k.kid, alg: ALGORITHM, use: 'sig' });
  }

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
        .sign(signingKey);
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
            const key = typeof header.kid === 'string' ? publicKeys.get(header.kid) : undefined;
            if (!key) throw new InvalidTokenError('unknown key id');
            return key;
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
      return { keys: publicJwks };
    },
  };
}
