import { DPOP_ALGORITHMS } from '../dpop.ts';
import { VerifyError, type VerifyErrorCode } from '../errors.ts';

/** An RFC 9457 problem, as every adapter answers a refused request. */
export interface RefusalProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: VerifyErrorCode;
}

export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: RefusalProblem;
}

const TITLES: Record<VerifyErrorCode, { type: string; title: string; detail: string }> = {
  invalid_token: { type: 'urn:sessiond:problem:invalid-token', title: 'Invalid access token', detail: 'The access token is missing, malformed or not signed by sessiond.' },
  expired: { type: 'urn:sessiond:problem:token-expired', title: 'Access token expired', detail: 'The access token has expired; refresh it and retry.' },
  revoked: { type: 'urn:sessiond:problem:session-revoked', title: 'Session ended', detail: 'The session of this access token has ended.' },
  unavailable: { type: 'urn:sessiond:problem:verification-unavailable', title: 'Session check unavailable', detail: 'The session could not be checked right now; retry shortly.' },
};

/** What a DPoP challenge offers (RFC 9449 §7.1 `algs`): the proof algorithms the verifier accepts. */
const DPOP_ALGS = DPOP_ALGORITHMS.join(' ');

/**
 * How a refused request is answered. RFC 6750 §3.1: a bad, expired or revoked token is a 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"` (just `Bearer` when no credentials were sent).
 * RFC 9449 §7.1: when the request used the DPoP scheme or the token is device-bound, the challenge
 * is `DPoP error="invalid_token"` (or `error="invalid_dpop_proof"` when the proof itself was missing
 * or bad) with the accepted proof algorithms.
 * `unavailable` is not the client's fault and a new token would not help, so it is a 503 with
 * `Retry-After`: we could not check, and we do not accept what we could not check (fail closed).
 */
export function refusal(error: unknown, options: { tokenPresent: boolean }): Refusal {
  const code: VerifyErrorCode = error instanceof VerifyError ? error.code : 'unavailable';
  const text = TITLES[code];
  const status = code === 'unavailable' ? 503 : 401;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
  if (status === 401) {
    const dpop = error instanceof VerifyError && error.scheme === 'DPoP';
    if (dpop) {
      const invalidProof = (error).invalidProof;
      headers['www-authenticate'] = `DPoP error="${invalidProof ? 'invalid_dpop_proof' : 'invalid_token'}", error_description="${invalidProof ? 'Invalid DPoP proof' : text.title}", algs="${DPOP_ALGS}"`;
    } else {
      headers['www-authenticate'] = options.tokenPresent ? `Bearer error="invalid_token", error_description="${text.title}"` : 'Bearer';
    }
  } else {
    headers['retry-after'] = '1';
  }
  return { status, headers, body: { type: text.type, title: text.title, status, detail: text.detail, code } };
}
