import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { AccessClaims } from '../tokens/access-tokens.ts';
import { DPOP_ALGORITHMS, DpopProofError, verifyDpopProof, type VerifiedProof } from './dpop-proof.ts';
import type { DpopNonces } from './nonces.ts';
import { ReplayCacheFullError, type ReplayCache } from './replay-cache.ts';

/** `Authorization: DPoP <token>` (RFC 9449 §7.1), the scheme case-insensitive; the token is group 1. */
export const DPOP_SCHEME = /^DPoP +(\S+)$/i;

export interface DpopOptions {
  /** REQUIRE_DPOP: sign-up and sign-in must bind the new session to a key. */
  required: boolean;
  /** DPOP_REQUIRE_NONCE: every proof must carry a recent server nonce (RFC 9449 §8). */
  requireNonce: boolean;
  /** How far a proof's `iat` may be from the server clock, either way; also the replay window. */
  iatWindowSeconds: number;
  /**
   * PUBLIC_URL: the URL clients reach the service at. When set, `htu` is compared with it (plus the
   * request's path), whatever the Host header or the proxy says; otherwise with the request's own
   * protocol and host (which honour TRUST_PROXY).
   */
  publicUrl?: string | undefined;
}

export interface DpopDeps {
  replay: ReplayCache;
  nonces: DpopNonces;
  clock: Clock;
}

/**
 * Where a proof was presented, which decides how a refusal is answered (errors.ts): at a token
 * endpoint (sign-up, sign-in, refresh; RFC 9449 §5) a 400 token-endpoint error, at a resource
 * request (a bound access token; §7.1) a 401 with a `WWW-Authenticate: DPoP` challenge.
 */
type ProofSite = 'token_endpoint' | 'resource';

/**
 * DPoP at the HTTP edge: reads the `DPoP` header, builds what the proof must match from the request
 * (method and external URL: Fastify's protocol and host honour TRUST_PROXY, so behind a trusted
 * proxy the URL the client signed is the one compared), runs the checks of dpop-proof.ts, the nonce
 * and the replay check, and turns refusals into problem details as RFC 9449 answers them where the
 * proof was presented (ProofSite), with a `DPoP-Nonce` header for nonce demands.
 */
export function createDpop(deps: DpopDeps, options: DpopOptions) {
  const algs = DPOP_ALGORITHMS.join(' ');
  const publicBase = options.publicUrl ? `${new URL(options.publicUrl).origin}${new URL(options.publicUrl).pathname.replace(/\/+$/, '')}` : undefined;
  const externalUrl = (request: FastifyRequest) => `${publicBase ?? `${request.protocol}://${request.host}`}${request.url}`;
  const challenge = (error: string) => `DPoP error="${error}", algs="${algs}"`;
  // A refusal carries the server's time in `Date` (from the injected clock): a client whose clock is
  // off by more than the iat window can correct its proofs' iat from it (the SDK does, once). Only a
  // resource request's 401 carries the WWW-Authenticate challenge (RFC 9449 §7.1; a token
  // endpoint's 400 names its error in the body, §5 and §8). The headers go on the reply here, at the
  // edge; the error handler keeps them on the problem answer.
  const refuse = (reply: FastifyReply, error: DpopProofError, site: ProofSite) => {
    reply.header('date', new Date(deps.clock.now()).toUTCString());
    if (site === 'resource') reply.header('www-authenticate', challenge(error.error));
    if (error.error === 'use_dpop_nonce') reply.header('dpop-nonce', deps.nonces.issue());
    return new AppError(error.error, error.message, { atTokenEndpoint: site === 'token_endpoint' });
  };

  /**
   * Verifies the request's DPoP proof; undefined when it has none. With `accessToken`, the proof
   * must also hash it (`ath`). Every refusal is an AppError (invalid_dpop_proof, use_dpop_nonce)
   * answered as `site` wants it.
   */
  async function proofOf(request: FastifyRequest, reply: FastifyReply, site: ProofSite, check: { accessToken?: string } = {}): Promise<VerifiedProof | undefined> {
    const header = request.headers.dpop;
    if (header === undefined) return undefined;
    // Node joins repeated headers with ", ": more than one proof is refused by the JWT shape check.
    if (typeof header !== 'string') throw refuse(reply, new DpopProofError('Send exactly one DPoP proof.'), site);
    const nowMs = deps.clock.now();
    let proof: VerifiedProof;
    try {
      proof = verifyDpopProof(header, {
        method: request.method,
        url: externalUrl(request),
        accessToken: check.accessToken,
        nowMs,
        iatWindowSeconds: options.iatWindowSeconds,
      });
      // A nonce the client sent is always checked (it asked to use them); without one, only when required.
      if (proof.nonce !== undefined ? !deps.nonces.isValid(proof.nonce) : options.requireNonce) {
        throw new DpopProofError('Sign the proof with the server nonce of the DPoP-Nonce header.', 'use_dpop_nonce');
      }
      // Last, so that only otherwise valid proofs take room in the cache. The ttl covers the whole
      // span in which the iat check would accept this proof (both sides of now).
      if (!(await deps.replay.firstUse(proof.jkt, proof.jti, 2 * options.iatWindowSeconds * 1000))) {
        throw new DpopProofError('This DPoP proof was already used (replayed jti).');
      }
    } catch (error) {
      if (error instanceof DpopProofError) throw refuse(reply, error, site);
      if (error instanceof ReplayCacheFullError) throw new AppError('service_unavailable', 'Too many DPoP proofs in flight; retry shortly.', { retryAfterSeconds: 1 });
      throw error;
    }
    if (options.requireNonce) reply.header('dpop-nonce', deps.nonces.issue());
    return proof;
  }

  return {
    options,

    /**
     * The proof of a refresh (a token endpoint): undefined without one. Checked before the token,
     * whatever the token: an invalid proof is refused as such (400) and says nothing about the token.
     */
    refreshProof: (request: FastifyRequest, reply: FastifyReply) => proofOf(request, reply, 'token_endpoint'),

    /**
     * The key a new session is to be bound to (sign-up, sign-in: RFC 9449 §5): the thumbprint of the
     * request's proof key, or undefined for an unbound session, which REQUIRE_DPOP refuses.
     */
    async bindingOf(request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> {
      const proof = await proofOf(request, reply, 'token_endpoint');
      if (!proof && options.required) {
        throw refuse(reply, new DpopProofError('This server binds every session to a device key: send a DPoP proof (RFC 9449) with this request.'), 'token_endpoint');
      }
      return proof?.jkt;
    },

    /**
     * The request check for an access token that names a key (`cnf.jkt`, RFC 9449 §6/§7): it is
     * accepted only under the DPoP scheme with a proof by that very key over this request and this
     * token. So a copied access token is useless without the private key.
     */
    async checkBoundToken(request: FastifyRequest, reply: FastifyReply, token: string, claims: AccessClaims, scheme: 'bearer' | 'dpop'): Promise<void> {
      if (claims.jkt === undefined) {
        // RFC 9449 §7.1: the DPoP scheme is for bound tokens; an unbound one goes as Bearer.
        if (scheme === 'dpop') throw new AppError('invalid_token', 'This access token is not bound to a key: send it as Authorization: Bearer.');
        return;
      }
      if (scheme === 'bearer') {
        reply.header('www-authenticate', challenge('invalid_token'));
        throw new AppError('invalid_token', 'This access token is bound to a key: send Authorization: DPoP <token> with a DPoP proof.');
      }
      const proof = await proofOf(request, reply, 'resource', { accessToken: token });
      if (!proof) throw refuse(reply, new DpopProofError('A DPoP proof is required with the DPoP scheme.'), 'resource');
      if (proof.jkt !== claims.jkt) throw refuse(reply, new DpopProofError('The DPoP proof is signed by another key than the one the token is bound to.'), 'resource');
    },
  };
}

export type Dpop = ReturnType<typeof createDpop>;
