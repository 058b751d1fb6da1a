/** Why a token was refused. */
export type VerifyErrorCode = 'invalid_token' | 'expired' | 'revoked' | 'unavailable';

/**
 * A refused token. `code` is stable and meant to be branched on; `message` is for logs and never
 * contains the token.
 */
export class VerifyError extends Error {
  readonly code: VerifyErrorCode;

  constructor(code: VerifyErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'VerifyError';
    this.code = code;
  }
}
