import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { VerifyError } from './errors.ts';
import { RevocationStream, StreamRefusedError, type LiveInfo } from './revocation-stream.ts';
import { RevokedSessions } from './revoked-sessions.ts';
import { UUID } from './uuid.ts';

export interface VerifierOptions {
  /** Where sessiond answers, e.g. `https://auth.example.com` (its JWKS, stream and validate endpoint). */
  baseUrl: string;
  /** A service key with the `revocations:read` scope (`sessiond service-keys create <name>`). */
  serviceKey: string | undefined;
  /** Expected `iss`; sessiond's JWT_ISSUER. Default `sessiond`. */
  issuer?: string;
  /** Expected `aud`; sessiond's JWT_AUDIENCE. Default `sessiond`. */
  audience?: string;
  /**
   * How long the stream may be silent (heartbeats count) before memory stops being trusted and every
   * check asks sessiond. Default 2,000 ms; sessiond sends a heartbeat every second.
   */
  maxStalenessMs?: number;
  /**
   * The longest access-token lifetime sessiond issues (its ACCESS_TOKEN_TTL_SECONDS; the stream
   * tells the real value and the larger one wins). Memory keeps an ended session this long, and a
   * token that claims a longer life is refused, so the memory's bound is enforced, not assumed.
   * Default 900.
   */
  accessTokenLifetimeSeconds?: number;
  /** Budget of one `GET /sessions/validate/{id}` when memory is not trusted. Default 2,000 ms. */
  validateTimeoutMs?: number;
  /** How long `createVerifier` waits for the stream's snapshot before returning anyway. Default 5,000 ms. */
  startTimeoutMs?: number;
  /** Reconnection back-off of the stream, first and longest delay. Defaults 100 ms and 5,000 ms. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Stream, JWKS and validate requests go through this (default: the global fetch). */
  fetch?: typeof fetch;
  /** Current time in ms (default Date.now); tests move it. */
  now?: () => number;
  /** Told about stream failures (never with a token or key in them). */
  onError?: (error: unknown) => void;
}

/** What a verified token says. */
export interface VerifiedSession {
  userId: string;
  sessionId: string;
  /** When this access token expires (not the session). */
  expiresAt: Date;
  /** Every claim of the token. */
  claims: JWTPayload & { sid: string; sub: string };
}

export interface VerifierStatus {
  /** The stream has delivered its snapshot and is connected. */
  live: boolean;
  /** Memory answers (live and heard from within maxStalenessMs); otherwise checks ask sessiond. */
  trusted: boolean;
  /** Sessions remembered as ended. */
  revokedCount: number;
  /** The stream's cursor (its last `id:`). */
  cursor: string | undefined;
}

export interface Verifier {
  /** Verifies an `Authorization` header value (`Bearer …`) or a bare token; throws VerifyError when refused. */
  verify(authorizationOrToken: string | string[] | undefined | null): Promise<VerifiedSession>;
  status(): VerifierStatus;
  /** Closes the stream and timers. */
  close(): Promise<void>;
}

const ALGORITHMS = ['EdDSA']; // pinned: the token header never chooses (RFC 8725 §3.1)
const TOKEN_TYPE = 'at+jwt'; // RFC 9068: no other JWT of ours passes as an access token
const MAX_TOKEN_LENGTH = 4096;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Slack for clocks that disagree when memory decides an ended session no longer matters. */
const CLOCK_SLACK_MS = 60_000;
/** A key id we do not know triggers at most one JWKS fetch per this interval (a rotation, or a forgery). */
const JWKS_COOLDOWN_MS = 1000;

function bearerToken(input: string | string[] | undefined | null): string | undefined {
  if (typeof input !== 'string') return undefined; // absent, or sent twice: refuse rather than pick one
  const value = input.trim();
  const match = /^Bearer\s+(\S+)$/i.exec(value);
  if (match) return match[1];
  return /\s/.test(value) || value === '' ? undefined : value;
}

/** jose's failures that mean "this token is bad", as opposed to "we could not check it". */
const TOKEN_ERRORS = new Set(['ERR_JWT_CLAIM_VALIDATION_FAILED', 'ERR_JWT_INVALID', 'ERR_JWS_INVALID', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JOSE_ALG_NOT_ALLOWED', 'ERR_JOSE_NOT_SUPPORTED', 'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS']);

/**
 * Creates a verifier and waits (up to startTimeoutMs) for the revocation stream's snapshot. A service
 * key that sessiond refuses is a configuration error and rejects; sessiond being unreachable is not
 * (checks fail closed with `unavailable` until it is back).
 */
export async function createVerifier(options: VerifierOptions): Promise<Verifier> {
  if (!options.serviceKey) throw new TypeError('createVerifier: serviceKey is required (a sessiond service key with revocations:read)');
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const issuer = options.issuer ?? 'sessiond';
  const audience = options.audience ?? 'sessiond';
  const maxStalenessMs = options.maxStalenessMs ?? 2000;
  const validateTimeoutMs = options.validateTimeoutMs ?? 2000;
  const onError = options.onError ?? (() => {});
  let tokenLifetimeMs = (options.accessTokenLifetimeSeconds ?? 900) * 1000;

  const jwks = createRemoteJWKSet(new URL(`${baseUrl}/.well-known/jwks.json`), {
    cooldownDuration: JWKS_COOLDOWN_MS,
    timeoutDuration: validateTimeoutMs,
    ...(options.fetch ? { [customFetch]: options.fetch } : {}),
  });
  let lastJwksReloadMs = 0;
  let jwksReload: Promise<void> | undefined;
  /** Single-flight, rate-limited JWKS re-read after an unknown `kid` (a key rotation): waits out the cooldown. */
  const reloadJwks = () =>
    (jwksReload ??= (async () => {
      const waitMs = lastJwksReloadMs + JWKS_COOLDOWN_MS - now();
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      try {
        await jwks.reload();
      } finally {
        lastJwksReloadMs = now();
        jwksReload = undefined;
      }
    })());

  const revoked = new RevokedSessions();
  let live = false;
  let lastHeardMs = 0;
  let startupRefusal: StreamRefusedError | undefined;
  let signalLive: (() => void) | undefined;
  const liveOnce = new Promise<void>((resolve) => {
    signalLive = resolve;
  });

  const stream = new RevocationStream(
    {
      url: `${baseUrl}/revocations/stream`,
      serviceKey: options.serviceKey,
      silenceTimeoutMs: Math.max(maxStalenessMs * 2, 5000),
      minBackoffMs: options.minBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 5000,
      fetch: doFetch,
    },
    {
      onRevoked(event) {
        const endedAtMs = Date.parse(event.endedAt);
        revoked.add(event.sessionId, Number.isFinite(endedAtMs) ? endedAtMs : now());
      },
      onLive(info: LiveInfo) {
        if (typeof info.tokenLifetimeSeconds === 'number' && info.tokenLifetimeSeconds * 1000 > tokenLifetimeMs) tokenLifetimeMs = info.tokenLifetimeSeconds * 1000;
        live = true;
        lastHeardMs = now();
        signalLive?.();
      },
      onReset() {
        // The server restarts from its snapshot; what we remember stays true (ends are final), but
        // until `live` again we have not heard everything.
        live = false;
      },
      onHeard() {
        lastHeardMs = now();
      },
      onDisconnected(error) {
        live = false;
        if (error instanceof StreamRefusedError && !startupRefusal) {
          startupRefusal = error;
          signalLive?.();
        }
        onError(error);
      },
    },
  );
  stream.start();

  const pruneTimer = setInterval(() => revoked.prune(now() - tokenLifetimeMs - CLOCK_SLACK_MS), 30_000);
  pruneTimer.unref?.();

  const startTimeout = new Promise<void>((resolve) => setTimeout(resolve, options.startTimeoutMs ?? 5000).unref?.());
  await Promise.race([liveOnce, startTimeout]);
  if (startupRefusal && !live) {
    clearInterval(pruneTimer);
    await stream.close();
    throw new Error(`createVerifier: sessiond refused the service key (HTTP ${startupRefusal.status})`, { cause: startupRefusal });
  }

  const trusted = () => live && now() - lastHeardMs <= maxStalenessMs;

  async function verifySignature(token: string): Promise<JWTPayload> {
    const verifyOnce = () => jwtVerify(token, jwks, { algorithms: ALGORITHMS, issuer, audience, typ: TOKEN_TYPE, requiredClaims: ['exp', 'iat', 'sub', 'sid'], currentDate: new Date(now()) });
    try {
      return (await verifyOnce()).payload;
    } catch (error) {
      // An unknown kid right after a rotation: re-read the JWKS once (rate-limited) and try again.
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      await reloadJwks();
      return (await verifyOnce()).payload;
    }
  }

  const inFlight = new Map<string, Promise<void>>();
  /** Memory cannot vouch: ask sessiond about this session with the caller's own token. */
  function validateRemotely(token: string, sessionId: string): Promise<void> {
    let pending = inFlight.get(token);
    if (!pending) {
      pending = (async () => {
        let response: Response;
        try {
          response = await doFetch(`${baseUrl}/sessions/validate/${sessionId}`, {
            headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
            signal: AbortSignal.timeout(validateTimeoutMs),
          });
        } catch (error) {
          throw new VerifyError('unavailable', 'sessiond could not be reached to validate the session', { cause: error });
        }
        const body = (await response.json().catch(() => undefined)) as { valid?: unknown } | undefined;
        if (response.status === 200 && body?.valid === true) return;
        if (response.status === 200 || response.status === 401 || response.status === 404) {
          // sessiond says no for a token whose signature is good: the session has ended. Remember it.
          revoked.add(sessionId, now());
          throw new VerifyError('revoked', 'the session has ended');
        }
        throw new VerifyError('unavailable', `sessiond answered HTTP ${response.status} to the session check`);
      })().finally(() => inFlight.delete(token));
      inFlight.set(token, pending);
    }
    return pending;
  }

  return {
    async verify(input) {
      const token = bearerToken(input);
      if (token === undefined) throw new VerifyError('invalid_token', 'no bearer token');
      if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) throw new VerifyError('invalid_token', 'malformed token');
      let payload: JWTPayload;
      try {
        payload = await verifySignature(token);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 'ERR_JWT_EXPIRED') throw new VerifyError('expired', 'the access token has expired');
        if (typeof code === 'string' && TOKEN_ERRORS.has(code)) throw new VerifyError('invalid_token', 'token verification failed');
        // The JWKS could not be fetched (sessiond down, timeout, garbage): we cannot tell. Fail closed.
        throw new VerifyError('unavailable', 'the signing keys could not be fetched', { cause: error });
      }
      const { sub, sid, exp, iat } = payload as JWTPayload & { sid?: unknown };
      if (typeof sub !== 'string' || typeof sid !== 'string' || !UUID.test(sid) || typeof exp !== 'number' || typeof iat !== 'number') {
        throw new VerifyError('invalid_token', 'token claims are malformed');
      }
      // A device-bound token (RFC 9449: `cnf.jkt`) is only good with a DPoP proof by the device's key.
      // This verifier does not check proofs yet, so it refuses bound tokens rather than accept one as a
      // plain bearer token (which would let a stolen bound token through here): fail closed.
      if ((payload as { cnf?: unknown }).cnf !== undefined) throw new VerifyError('invalid_token', 'device-bound (DPoP) tokens are not supported by this verifier yet');
      // Memory forgets an ended session one token lifetime after it ended; a token living longer
      // could outlive that memory, so it is refused rather than trusted.
      if ((exp - iat) * 1000 > tokenLifetimeMs) throw new VerifyError('invalid_token', 'token lifetime exceeds what this verifier can vouch for');
      if (revoked.has(sid)) throw new VerifyError('revoked', 'the session has ended');
      if (!trusted()) await validateRemotely(token, sid);
      return { userId: sub, sessionId: sid, expiresAt: new Date(exp * 1000), claims: payload as VerifiedSession['claims'] };
    },

    status() {
      return { live, trusted: trusted(), revokedCount: revoked.size, cursor: stream.cursor };
    },

    async close() {
      clearInterval(pruneTimer);
      await stream.close();
    },
  };
}
