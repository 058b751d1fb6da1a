import type crypto from 'node:crypto';
import { jwtVerify, type JWTPayload } from 'jose';
import { accessTokenHash, DpopProofError, ReplayCache, ReplayCacheFullError, verifyDpopProof } from './dpop.ts';
import { VerifyError } from './errors.ts';
import { RevocationStream, StreamRefusedError, type LiveInfo } from './revocation-stream.ts';
import { Jwks } from './jwks.ts';
import { RevokedSessions } from './revoked-sessions.ts';
import { VerifiedTokenCache, type VerifiedToken } from './token-cache.ts';
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
  /**
   * Bound of the verified-token cache (token-cache.ts): how many distinct tokens keep their full
   * check's result. 0 turns it off (every call checks the signature). Default 10,000.
   */
  verifiedCacheMaxEntries?: number;
  /**
   * How often the JWKS is read again in the background, so that a key withdrawn from sessiond stops
   * verifying tokens this verifier has cached within this bound. Default 60,000 ms. (A kid not seen
   * before also triggers a read, at most once a second.)
   */
  jwksRefreshMs?: number;
  /** How far a DPoP proof's `iat` may be from now, either way (RFC 9449 §11.1). Default 60 s, as sessiond. */
  dpopIatWindowSeconds?: number;
  /** Bound of the DPoP replay cache (proofs seen within their iat window). Default 100,000. */
  dpopReplayCacheMaxEntries?: number;
}

/**
 * What `verify` needs besides the `Authorization` header to check a device-bound token's DPoP proof
 * (RFC 9449 §7.1). The adapters fill it in; bearer tokens need none of it.
 */
export interface VerifyRequestOptions {
  /** The request's method, as received (`GET`). */
  method?: string;
  /** The URL the client sent the request to (`https://api.example.com/things?x=1`); query and fragment are ignored. */
  url?: string;
  /** The request's `DPoP` header (a proof JWT). */
  dpop?: string | string[] | undefined;
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
  /** Tokens in the verified-token cache. */
  cachedTokens: number;
}

export interface Verifier {
  /**
   * Verifies an `Authorization` header value (`Bearer …`, or `DPoP …` with `request`) or a bare
   * bearer token; throws VerifyError when refused. A device-bound token (`cnf.jkt`) is accepted only
   * as `DPoP <token>` with a valid proof in `request.dpop` over `request.method` and `request.url`.
   */
  verify(authorizationOrToken: string | string[] | undefined | null, request?: VerifyRequestOptions): Promise<VerifiedSession>;
  status(): VerifierStatus;
  /** Closes the stream and timers. */
  close(): Promise<void>;
}

const ALGORITHMS = ['EdDSA']; // pinned: the token header never chooses (RFC 8725 §3.1)
const TOKEN_TYPE = 'at+jwt'; // RFC 9068: no other JWT of ours passes as an access token
const MAX_TOKEN_LENGTH = 4096;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const JKT = /^[A-Za-z0-9_-]{43}$/;
const isSpace = (code: number) => code === 0x20 || code === 0x09;
/** `value` starts with `scheme` (lower case given; compared case-insensitively) and a space (RFC 6750 §2.1, RFC 9449 §7.1). */
function startsWithScheme(value: string, scheme: string): boolean {
  if (value.length <= scheme.length + 1 || !isSpace(value.charCodeAt(scheme.length))) return false;
  for (let i = 0; i < scheme.length; i++) if ((value.charCodeAt(i) | 0x20) !== scheme.charCodeAt(i)) return false;
  return true;
}
/** Slack for clocks that disagree when memory decides an ended session no longer matters. */
const CLOCK_SLACK_MS = 60_000;
/** A key id we do not know triggers at most one JWKS fetch per this interval (a rotation, or a forgery). */
const JWKS_COOLDOWN_MS = 1000;

/** A kid that is not in the key set (jose calls our key function; this is how it says "none"). */
class UnknownKidError extends Error {}

/** jose's failures that mean "this token is bad", as opposed to "we could not check it". */
const TOKEN_ERRORS = new Set(['ERR_JWT_CLAIM_VALIDATION_FAILED', 'ERR_JWT_INVALID', 'ERR_JWS_INVALID', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JOSE_ALG_NOT_ALLOWED', 'ERR_JOSE_NOT_SUPPORTED']);

/** Deep-freezes the claims handed to every caller of a cached token. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

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
  const dpopIatWindowMs = (options.dpopIatWindowSeconds ?? 60) * 1000;
  const onError = options.onError ?? (() => {});
  let tokenLifetimeMs = (options.accessTokenLifetimeSeconds ?? 900) * 1000;

  const cache = new VerifiedTokenCache(options.verifiedCacheMaxEntries ?? 10_000);
  const replay = new ReplayCache(options.dpopReplayCacheMaxEntries ?? 100_000);
  const jwks = new Jwks({
    url: `${baseUrl}/.well-known/jwks.json`,
    fetch: doFetch,
    timeoutMs: validateTimeoutMs,
    cooldownMs: JWKS_COOLDOWN_MS,
    now,
    // A key set that changed may have lost a key: forget every result obtained with the old one.
    onChange: () => cache.clear(),
  });
  // Read the keys now (a failure is retried at the first check), and again every jwksRefreshMs so a
  // withdrawn key stops verifying cached tokens even when no unknown kid comes along.
  jwks.load().catch(onError);
  const jwksTimer = setInterval(() => {
    jwks.load().catch(onError);
  }, options.jwksRefreshMs ?? 60_000);
  jwksTimer.unref?.();

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
    clearInterval(jwksTimer);
    await stream.close();
    throw new Error(`createVerifier: sessiond refused the service key (HTTP ${startupRefusal.status})`, { cause: startupRefusal });
  }

  const trusted = () => live && now() - lastHeardMs <= maxStalenessMs;

  /** The full check of a token not in the cache: signature, pinned algorithm, claims; the result is cached. */
  async function checkInFull(token: string, scheme: 'Bearer' | 'DPoP'): Promise<VerifiedToken> {
    let used: { kid: string; key: crypto.KeyObject } | undefined;
    // Keys come only from sessiond's JWKS, by kid; an embedded jwk/jku/x5u never selects one.
    const keyFor = (header: { kid?: unknown }) => {
      const key = typeof header.kid === 'string' ? jwks.keys.get(header.kid) : undefined;
      if (!key) throw new UnknownKidError('unknown key id');
      used = { kid: header.kid as string, key };
      return key;
    };
    const verifyOnce = () => jwtVerify(token, keyFor, { algorithms: ALGORITHMS, issuer, audience, typ: TOKEN_TYPE, requiredClaims: ['exp', 'iat', 'sub', 'sid'], currentDate: new Date(now()) });
    const refuse = (code: 'invalid_token' | 'expired', message: string) => new VerifyError(code, message, { scheme });
    let payload: JWTPayload;
    try {
      try {
        if (!jwks.loaded) await jwks.load();
        payload = (await verifyOnce()).payload;
      } catch (error) {
        // A kid we do not know, e.g. right after a rotation: read the JWKS again (rate-limited), once.
        if (!(error instanceof UnknownKidError)) throw error;
        await jwks.reloadForUnknownKid();
        payload = (await verifyOnce()).payload;
      }
    } catch (error) {
      if (error instanceof UnknownKidError) throw refuse('invalid_token', 'token signed by an unknown key');
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWT_EXPIRED') throw refuse('expired', 'the access token has expired');
      if (typeof code === 'string' && TOKEN_ERRORS.has(code)) throw refuse('invalid_token', 'token verification failed');
      // The JWKS could not be fetched (sessiond down, timeout, garbage): we cannot tell. Fail closed.
      throw new VerifyError('unavailable', 'the signing keys could not be fetched', { cause: error, scheme });
    }
    const { sub, sid, exp, iat, cnf } = payload as JWTPayload & { sid?: unknown; cnf?: { jkt?: unknown } };
    if (typeof sub !== 'string' || typeof sid !== 'string' || !UUID.test(sid) || typeof exp !== 'number' || typeof iat !== 'number') {
      throw refuse('invalid_token', 'token claims are malformed');
    }
    // A confirmation we cannot read is refused, never ignored: ignoring it would turn a bound token
    // into a bearer token.
    if (cnf !== undefined && (typeof cnf !== 'object' || cnf === null || typeof cnf.jkt !== 'string' || !JKT.test(cnf.jkt))) {
      throw refuse('invalid_token', 'token confirmation (cnf) is malformed');
    }
    // Memory forgets an ended session one token lifetime after it ended; a token living longer
    // could outlive that memory, so it is refused rather than trusted.
    if ((exp - iat) * 1000 > tokenLifetimeMs) throw refuse('invalid_token', 'token lifetime exceeds what this verifier can vouch for');
    const jkt = cnf?.jkt as string | undefined;
    const entry: VerifiedToken = {
      token,
      userId: sub,
      sessionId: sid,
      expiresAtMs: exp * 1000,
      kid: used!.kid,
      key: used!.key,
      jkt,
      ath: jkt === undefined ? undefined : accessTokenHash(token),
      claims: deepFreeze(payload) as VerifiedToken['claims'],
    };
    cache.add(entry, now());
    return entry;
  }

  /**
   * RFC 9449 §7.1: a bound token goes only as `DPoP <token>`, with a proof by the very key the token
   * names (`cnf.jkt`) over this request (htm, htu), this token (ath) and now (iat), used once (jti).
   */
  function checkProof(entry: VerifiedToken, scheme: 'Bearer' | 'DPoP', request: VerifyRequestOptions | undefined): void {
    const refuse = (message: string, invalidProof = true) => new VerifyError('invalid_token', message, { scheme: 'DPoP', invalidProof });
    if (scheme !== 'DPoP') throw refuse('the access token is bound to a key (DPoP): send Authorization: DPoP <token> with a DPoP proof', false);
    const proof = request?.dpop;
    if (proof === undefined) throw refuse('a DPoP proof is required with the DPoP scheme');
    // Node joins a repeated header with ", ": more than one proof fails the JWT shape check anyway.
    if (typeof proof !== 'string') throw refuse('send exactly one DPoP proof');
    if (typeof request?.method !== 'string' || typeof request.url !== 'string') throw refuse('verify() needs the request method and url to check a DPoP proof');
    const nowMs = now();
    let verified: { jkt: string; jti: string };
    try {
      verified = verifyDpopProof(proof, { method: request.method, url: request.url, ath: entry.ath!, nowMs, iatWindowMs: dpopIatWindowMs });
    } catch (error) {
      if (error instanceof DpopProofError) throw refuse(error.message);
      throw error;
    }
    if (verified.jkt !== entry.jkt) throw refuse('the DPoP proof is signed by another key than the one the token is bound to');
    // Last, so that only otherwise valid proofs take room. The ttl covers every instant at which the
    // iat check would still accept this proof (both sides of now).
    let first: boolean;
    try {
      first = replay.firstUse(verified.jkt, verified.jti, nowMs, 2 * dpopIatWindowMs);
    } catch (error) {
      if (error instanceof ReplayCacheFullError) throw new VerifyError('unavailable', 'too many DPoP proofs in flight', { scheme: 'DPoP' });
      throw error;
    }
    if (!first) throw refuse('this DPoP proof was already used (replayed jti)');
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

  const sessionOf = (entry: VerifiedToken): VerifiedSession => ({ userId: entry.userId, sessionId: entry.sessionId, expiresAt: new Date(entry.expiresAtMs), claims: entry.claims });

  /**
   * Everything after the token's own check, on EVERY call, cache hit or miss: the DPoP proof of a
   * bound token, the revoked-sessions memory, and the fallback to sessiond when that memory is stale.
   */
  function afterTokenCheck(entry: VerifiedToken, token: string, scheme: 'Bearer' | 'DPoP', request: VerifyRequestOptions | undefined): VerifiedSession | Promise<VerifiedSession> {
    if (entry.jkt !== undefined) checkProof(entry, scheme, request);
    // RFC 9449 §7.1: the DPoP scheme is for bound tokens; an unbound one goes as Bearer.
    else if (scheme === 'DPoP') throw new VerifyError('invalid_token', 'the access token is not bound to a key: send it as Authorization: Bearer', { scheme: 'DPoP' });
    const challenge = entry.jkt === undefined ? 'Bearer' : 'DPoP';
    if (revoked.has(entry.sessionId)) throw new VerifyError('revoked', 'the session has ended', { scheme: challenge });
    if (trusted()) return sessionOf(entry);
    // sessiond answers GET /sessions/validate for a bound token only with a proof by the device's
    // key, which this process does not have: memory that cannot vouch means "we cannot tell", and
    // we do not accept what we could not check (fail closed until the stream is back).
    if (entry.jkt !== undefined) throw new VerifyError('unavailable', 'the revocation stream is stale and a device-bound session cannot be validated remotely', { scheme: 'DPoP' });
    return validateRemotely(token, entry.sessionId).then(() => sessionOf(entry));
  }

  /** The check; synchronous when memory decides (a cache hit with a live stream), a promise otherwise. */
  function check(input: string | string[] | undefined | null, request: VerifyRequestOptions | undefined): VerifiedSession | Promise<VerifiedSession> {
    if (typeof input !== 'string') throw new VerifyError('invalid_token', 'no bearer token'); // absent, or sent twice: refuse rather than pick one
    // `Bearer <token>`, `DPoP <token>` (schemes case-insensitive) or a bare token, parsed by hand:
    // this runs on every request, and a regular expression over a 600-character token costs more
    // than the cache lookup. A token with whitespace inside is never a hit (no cached token has
    // any) and fails JWT_SHAPE on a miss.
    const value = input.trim();
    let scheme: 'Bearer' | 'DPoP' = 'Bearer';
    let start = 0;
    if (startsWithScheme(value, 'bearer')) start = 7;
    else if (startsWithScheme(value, 'dpop')) {
      start = 5;
      scheme = 'DPoP';
    }
    while (start > 0 && isSpace(value.charCodeAt(start))) start++;
    const token = start === 0 ? value : value.slice(start);
    if (token === '') throw new VerifyError('invalid_token', 'no bearer token');
    if (token.length > MAX_TOKEN_LENGTH) throw new VerifyError('invalid_token', 'malformed token', { scheme });
    const hit = cache.get(token);
    if (hit !== undefined) {
      // Re-checked on every hit (token-cache.ts): expiry with jose's rule, then that the key that
      // verified the token is still the one the current key set holds under its kid.
      if (!(now() < hit.expiresAtMs)) {
        cache.delete(token);
        throw new VerifyError('expired', 'the access token has expired', { scheme: hit.jkt === undefined ? scheme : 'DPoP' });
      }
      if (jwks.keys.get(hit.kid) === hit.key) return afterTokenCheck(hit, token, scheme, request);
      cache.delete(token); // its key was withdrawn or replaced: judged afresh in full below
    } else if (!JWT_SHAPE.test(token)) {
      throw new VerifyError('invalid_token', 'malformed token', { scheme });
    }
    return checkInFull(token, scheme).then((entry) => afterTokenCheck(entry, token, scheme, request));
  }

  const verifier: Verifier = {
    async verify(input, request) {
      return check(input, request);
    },

    status() {
      return { live, trusted: trusted(), revokedCount: revoked.size, cursor: stream.cursor, cachedTokens: cache.size };
    },

    async close() {
      clearInterval(pruneTimer);
      clearInterval(jwksTimer);
      await stream.close();
    },
  };
  immediateChecks.set(verifier, check);
  return verifier;
}

/** `verify` without its promise: the session itself when memory decides, a promise otherwise; refusals thrown. */
export type ImmediateCheck = (input: string | string[] | undefined | null, request: VerifyRequestOptions | undefined) => VerifiedSession | Promise<VerifiedSession>;
const immediateChecks = new WeakMap<Verifier, ImmediateCheck>();
/**
 * The check behind a verifier made by createVerifier (undefined for any other object implementing
 * Verifier, e.g. a test double), for the adapters: when memory decides, the node:http helper answers
 * without the promise hops of `await verifier.verify()`, which cost more per request than the check
 * itself (docs/BENCHMARKS.md). Not exported from the package: its API stays `verify()`.
 */
export const immediateCheckOf = (verifier: Verifier): ImmediateCheck | undefined => immediateChecks.get(verifier);
