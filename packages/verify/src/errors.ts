/** Why a token was refused. */
export type VerifyErrorCode = 'invalid_token' | 'expired' | 'revoked' | 'unavailable';

export interface VerifyErrorOptions {
  cause?: unknown;
  /**
   * How the refused request should be challenged (RFC 9449 §7.1): `DPoP` when the request used the
   * DPoP scheme or the token is device-bound, else `Bearer` (RFC 6750).
   */
  scheme?: 'Bearer' | 'DPoP';
  /** The DPoP proof itself was missing or bad (`error="invalid_dpop_proof"`); the code stays `invalid_token`. */
  invalidProof?: boolean;
}

/**
 * A refused token. `code` is stable and meant to be branched on; `message` is for logs and never
 * contains the token.
 */
export class VerifyError extends Error {
  readonly code: VerifyErrorCode;
  readonly scheme: 'Bearer' | 'DPoP';
  readonly invalidProof: boolean;

  constructor(code: VerifyErrorCode, message: string, options: VerifyErrorOptions = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'VerifyError';
    this.code = code;
    this.scheme = options.scheme ?? 'Bearer';
    this.invalidProof = options.invalidProof ?? false;
  }
}
