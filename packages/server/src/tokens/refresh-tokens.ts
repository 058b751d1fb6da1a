import crypto from 'node:crypto';
import { CANONICAL_UUID_SOURCE } from '../http/uuid.ts';
import { isCanonicalBase64url } from './base64url.ts';

/**
 * Refresh tokens: `<sessionId>.<generation>.<mac>` where
 *   mac = HMAC-SHA256(refreshTokenKey, "<sessionId>.<generation>.<refreshSalt>")   (256 bits).
 *
 * Why derived rather than random-and-stored: the database never holds a refresh token or anything
 * from which one can be made without the key (which lives outside the database), so a dump of the
 * database alone mints nothing. And because every generation can be recomputed, the service can
 * (a) tell a genuine old token (reuse: revoke the session) from a forgery (just 401), and
 * (b) answer a replay of the previous token inside the grace window with the very same successor,
 * which a stored hash could not give back.
 */
export interface ParsedRefreshToken {
  sessionId: string;
  generation: number;
  mac: Buffer;
}

// `\\.` in the template: a literal dot in the expression (a bare `\.` would become any character).
const SHAPE = new RegExp(`^(${CANONICAL_UUID_SOURCE})\\.(0|[1-9][0-9]{0,8})\\.([A-Za-z0-9_-]{43})$`);

export function newRefreshSalt(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function createRefreshTokens(keyBase64url: string) {
  const key = Buffer.from(keyBase64url, 'base64url');
  if (key.length < 32) throw new Error('refresh token key must be at least 256 bits');

  const mac = (sessionId: string, generation: number, salt: string) =>
    crypto.createHmac('sha256', key).update(`${sessionId}.${generation}.${salt}`).digest();

  return {
    /** The token of one generation of a session. */
    make(sessionId: string, generation: number, salt: string): string {
      return `${sessionId}.${generation}.${mac(sessionId, generation, salt).toString('base64url')}`;
    },
    /** Splits a presented token; undefined when it is not of our shape (never throws). */
    parse(token: unknown): ParsedRefreshToken | undefined {
      if (typeof token !== 'string' || token.length > 200) return undefined;
      const m = SHAPE.exec(token);
      // Only the spelling we issued: the MAC's spare low bits must be zero (tokens/base64url.ts).
      if (!m || !isCanonicalBase64url(m[3]!)) return undefined;
      return { sessionId: m[1]!, generation: Number(m[2]), mac: Buffer.from(m[3]!, 'base64url') };
    },
    /** Whether the token is genuinely ours for that session and generation. Constant-time compare. */
    isGenuine(parsed: ParsedRefreshToken, salt: string): boolean {
      const expected = mac(parsed.sessionId, parsed.generation, salt);
      return parsed.mac.length === expected.length && crypto.timingSafeEqual(parsed.mac, expected);
    },
  };
}

export type RefreshTokens = ReturnType<typeof createRefreshTokens>;
