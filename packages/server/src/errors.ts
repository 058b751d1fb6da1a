/**
 * The closed catalogue of errors the service may answer with. Services throw AppError with one of
 * these codes; the single error handler (http/error-handler.ts) turns it into RFC 9457 problem
 * details. Adding a failure mode means adding a line here, not a status code in a handler.
 */
export const errorCatalogue = {
  validation_failed: { status: 400, title: 'Invalid request' },
  malformed_json: { status: 400, title: 'Malformed JSON body' },
  weak_password: { status: 400, title: 'Password does not meet the policy' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  invalid_token: { status: 401, title: 'Invalid or expired access token' },
  invalid_credentials: { status: 401, title: 'Invalid email or password' },
  invalid_refresh_token: { status: 401, title: 'Invalid refresh token' },
  // DPoP (RFC 9449): these two answer by where the proof was presented. At a resource request (a
  // bound access token, §7.1) they are 401 challenges with `WWW-Authenticate: DPoP error=…`. At the
  // token endpoints (sign-up, sign-in, refresh: the RFC's authorization server, §5) they are token
  // endpoint errors, 400 (RFC 6749 §5.2), the nonce demand with a DPoP-Nonce header (§8): there the
  // request, not a credential, is what is wrong. (A bound refresh token presented without its key,
  // or with a valid proof by another key, is not a proof error: the token is what is refused, 401
  // invalid_refresh_token like every refused refresh token, so a thief learns nothing.)
  invalid_dpop_proof: { status: 401, tokenEndpointStatus: 400, title: 'Invalid DPoP proof' },
  use_dpop_nonce: { status: 401, tokenEndpointStatus: 400, title: 'DPoP nonce required' },
  invalid_admin_key: { status: 401, title: 'Invalid or missing admin API key' },
  wrong_password: { status: 403, title: 'The password is incorrect' },
  invalid_service_key: { status: 401, title: 'Invalid or missing service key' },
  insufficient_scope: { status: 403, title: 'The service key lacks the required scope' },
  invalid_reset_token: { status: 400, title: 'Invalid or expired password reset link' },
  not_found: { status: 404, title: 'Not found' },
  request_timeout: { status: 408, title: 'Request timeout' },
  user_not_found: { status: 404, title: 'User not found' },
  session_not_found: { status: 404, title: 'Session not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  email_taken: { status: 409, title: 'Email already registered' },
  session_limit_reached: { status: 409, title: 'Too many active sessions' },
  external_id_taken: { status: 409, title: 'External id already in use' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  uri_too_long: { status: 414, title: 'Request URI too long' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  headers_too_large: { status: 431, title: 'Request headers too large' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  service_unavailable: { status: 503, title: 'Service temporarily unavailable' },
} as const satisfies Record<string, { status: number; title: string; tokenEndpointStatus?: number }>;

export type ErrorCode = keyof typeof errorCatalogue;

/**
 * A failure the service means to answer with. It carries meaning, not HTTP: the error handler
 * (http/error-handler.ts) turns `retryAfterSeconds` into `Retry-After`.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** When the caller may try again (rate limits, a brief outage); whole seconds, at least 1. */
  readonly retryAfterSeconds: number | undefined;
  /**
   * The OAuth error code (RFC 6749 §5.2) of a token endpoint error: the code itself, for the codes
   * with a tokenEndpointStatus answered at a token endpoint (DPoP's, RFC 9449 §5, §8); OAuth client
   * libraries look for it in the body (`error`), next to the problem details.
   */
  readonly oauthError: string | undefined;

  /** `atTokenEndpoint`: answered by sign-up, sign-in or refresh (the catalogue's tokenEndpointStatus, if the code has one). */
  constructor(code: ErrorCode, detail?: string, options: { retryAfterSeconds?: number | undefined; cause?: unknown; atTokenEndpoint?: boolean } = {}) {
    super(detail ?? errorCatalogue[code].title, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    const entry: { status: number; tokenEndpointStatus?: number } = errorCatalogue[code];
    const tokenEndpointStatus = options.atTokenEndpoint ? entry.tokenEndpointStatus : undefined;
    this.status = tokenEndpointStatus ?? entry.status;
    this.oauthError = tokenEndpointStatus === undefined ? undefined : code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The `type` URI of a problem: stable per code, so clients can branch on it. */
export function problemType(code: ErrorCode): string {
  return `urn:sessiond:problem:${code.replaceAll('_', '-')}`;
}
