import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { InvalidTokenError, type AccessTokens } from '../tokens/access-tokens.ts';
import { DPOP_SCHEME, type Dpop } from '../dpop/dpop-http.ts';
import type { SessionService } from '../sessions/session-service.ts';

export interface Principal {
  userId: string;
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authenticate hook on protected routes; absent elsewhere. */
    principal?: Principal;
  }
}

/** `Authorization: Bearer <token>`, the scheme case-insensitive (RFC 9110 §11.1); the token is group 1. */
export const BEARER = /^Bearer +(\S+)$/i;

/** The authenticated caller of a protected route (the hook guarantees it is set). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'Authentication required.');
  return request.principal;
}

/**
 * Protects every route registered inside `scope`: authentication by plugin scope, never by a list
 * of URL prefixes. Runs onRequest, before body parsing and validation, so a caller without a valid
 * token learns nothing about what else is wrong with the request: the answer is 401 first.
 */
export function requireBearer(scope: FastifyInstance, deps: { accessTokens: AccessTokens; sessions: SessionService; dpop: Dpop }) {
  scope.decorateRequest('principal', undefined);
  const verifyFully = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.length === 0) {
      throw new AppError('unauthenticated', 'Send an access token: Authorization: Bearer <token>.');
    }
    const bearer = BEARER.exec(header);
    const match = bearer ?? DPOP_SCHEME.exec(header);
    if (!match) throw new AppError('unauthenticated', 'The Authorization header must use the Bearer (or, for key-bound tokens, DPoP) scheme.');
    let claims;
    try {
      claims = await deps.accessTokens.verify(match[1]!);
    } catch (error) {
      // Only a refused token is the caller's problem (401). Anything else is a bug or an outage and
      // must surface as such (500/503 from the error handler), not hide behind "invalid token".
      if (!(error instanceof InvalidTokenError)) throw error;
      throw new AppError('invalid_token', 'The access token is invalid or expired.');
    }
    // Key-bound tokens need the DPoP scheme and a proof by their key; unbound ones the Bearer scheme.
    await deps.dpop.checkBoundToken(request, reply, match[1]!, claims, bearer ? 'bearer' : 'dpop');
    await deps.sessions.authenticate(claims);
    request.principal = { userId: claims.userId, sessionId: claims.sessionId };
  };
  // A synchronous hook: most requests are settled from memory (cachedPrincipal) without a promise;
  // the rest, refusals included, go through verifyFully.
  scope.addHook('onRequest', function authenticate(request, reply, done) {
    const principal = cachedPrincipal(request.headers.authorization, deps);
    if (principal) {
      request.principal = principal;
      done();
      return;
    }
    verifyFully(request, reply).then(() => done(), done);
  });
}

/**
 * The caller of a request that memory alone can accept, synchronously: `Bearer <token>` (the
 * canonical spelling only) with a token this process has already verified in full and that is still
 * good (tokens/access-tokens.ts `verifyCached`), unbound (a token bound to a device key needs its
 * DPoP proof checked, dpop/dpop-http.ts), whose session the trusted cache shows live and the
 * subject's (sessions/session-service.ts `authenticateCached`). Undefined means "not known here",
 * never "refused": the full check then decides, so every refusal has one source.
 */
export function cachedPrincipal(header: string | undefined, deps: { accessTokens: AccessTokens; sessions: SessionService }): Principal | undefined {
  // The rest of the header must be a token already verified whole, so it has no spaces.
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return undefined;
  const claims = deps.accessTokens.verifyCached(header.slice(7));
  if (!claims || claims.jkt !== undefined || !deps.sessions.authenticateCached(claims)) return undefined;
  return { userId: claims.userId, sessionId: claims.sessionId };
}
