import crypto from 'node:crypto';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { AccessClaims } from '../tokens/access-tokens.ts';
import { newRefreshSalt, type RefreshTokens } from '../tokens/refresh-tokens.ts';
import { parseDevice, type Device } from './device.ts';
import {
  activeWindow,
  effectiveExpiryMs,
  expiryReason,
  isActive,
  type LifetimePolicy,
  type RevokeReason,
  type SessionRecord,
} from './session.ts';
import { toCached, type CachedSession, type SessionCache } from './session-cache.ts';
import type { SessionStore } from './session-store.ts';
import { noopTelemetry, type Telemetry } from '../observability/telemetry.ts';
import { storableHeaderText } from '../http/text-schemas.ts';

/** A session as the API shows it (domain object; the routes map it to JSON). */
export interface SessionView {
  id: string;
  createdAtMs: number;
  lastActiveAtMs: number;
  expiresAtMs: number;
  ipAddress: string | null;
  userAgent: string | null;
  device: Device;
  isCurrent: boolean;
  /** Bound to a device key (DPoP): its refresh tokens and access tokens need proofs by that key. */
  dpopBound: boolean;
  /** Refreshes refused for want of the session's key: someone holds a copy of its refresh token. */
  unboundUse: { count: number; lastAtMs: number } | null;
  authMethod: string;
}

/** Whether a session is active, and until when at most (its idle or absolute expiry). */
export interface Validation {
  valid: boolean;
  expiresAtMs: number | null;
}

export interface SessionServiceOptions {
  policy: LifetimePolicy;
  /** At most one lastActiveAt write per session per this interval. */
  lastActiveWriteIntervalMs: number;
  /** Replaying the previous refresh token within this window returns the same successor. */
  refreshReuseGraceMs: number;
  /** Concurrent active sessions per user (0 = unlimited) and what happens at the limit. */
  sessionLimit: { maxActive: number; mode: 'refuse' | 'evict' };
}

export interface SessionServiceDeps {
  store: SessionStore;
  cache: SessionCache;
  refreshTokens: RefreshTokens;
  clock: Clock;
  onBackgroundError?: (error: unknown) => void;
  /** Called after revocations commit (after the local cache is marked): the push to other processes. */
  onRevoked?: (sessionIds: string[]) => void;
  /** Called after a new session commits (the live streams read it at once instead of at their next poll). */
  onCreated?: (sessionId: string) => void;
  telemetry?: Telemetry;
}

/** Thumbprints compared in constant time (they are not secret, but the habit costs nothing). */
function sameKey(boundJkt: string, presentedJkt: string | undefined): boolean {
  if (presentedJkt === undefined) return false;
  const a = Buffer.from(boundJkt);
  const b = Buffer.from(presentedJkt);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export function createSessionService(deps: SessionServiceDeps, options: SessionServiceOptions) {
  const { store, cache, refreshTokens, clock } = deps;
  const { policy } = options;
  const onBackgroundError = deps.onBackgroundError ?? (() => {});
  const telemetry = deps.telemetry ?? noopTelemetry;

  /** Every revocation path goes through here: local cache first (same tick), then other processes. */
  function revoked(sessionIds: string[], reason: RevokeReason): void {
    if (sessionIds.length === 0) return;
    cache.markRevoked(sessionIds);
    deps.onRevoked?.(sessionIds);
    telemetry.revoked(reason, sessionIds.length);
  }

  /**
   * Session state from the cache alone, when it can be trusted; undefined when the database must be
   * asked. A cached entry that looks idle-expired may only be stale: another instance may have seen
   * activity since, so it is re-read rather than used to refuse a live session.
   */
  function fromCache(sessionId: string, nowMs: number): CachedSession | undefined {
    if (!cache.isTrusted(nowMs)) return undefined;
    const hit = cache.get(sessionId);
    return hit && (hit.revoked || nowMs < effectiveExpiryMs(hit, policy)) ? hit : undefined;
  }

  /** Session state for a check: from the cache when it can be trusted, else from the database. */
  async function lookup(sessionId: string, nowMs: number): Promise<CachedSession | undefined> {
    const hit = fromCache(sessionId, nowMs);
    telemetry.cacheLookup(hit !== undefined);
    if (hit) return hit;
    const epoch = cache.epoch;
    const record = await store.get(sessionId);
    if (!record) return undefined;
    const entry = toCached(record);
    cache.fill(entry, epoch);
    // fill() keeps a tombstone over a fresher read; return what the cache now holds.
    return cache.get(sessionId) ?? entry;
  }

  function active(entry: CachedSession, nowMs: number): boolean {
    return !entry.revoked && nowMs < effectiveExpiryMs(entry, policy);
  }

  /** Another user's session is simply "not valid", exactly like an unknown one. */
  function validation(entry: CachedSession | undefined, userId: string, nowMs: number): Validation {
    if (!entry || entry.userId !== userId || !active(entry, nowMs)) return { valid: false, expiresAtMs: null };
    return { valid: true, expiresAtMs: effectiveExpiryMs(entry, policy) };
  }

  /** Records activity, throttled to one write per session per interval; never delays the request. */
  function noteActivity(entry: CachedSession, nowMs: number): void {
    if (nowMs - entry.lastActiveAtMs < options.lastActiveWriteIntervalMs) return;
    entry.lastActiveAtMs = nowMs;
    store.touch(entry.id, nowMs).catch(onBackgroundError);
  }

  function view(record: SessionRecord, currentSessionId: string | undefined): SessionView {
    return {
      id: record.id,
      createdAtMs: record.createdAtMs,
      lastActiveAtMs: record.lastActiveAtMs,
      expiresAtMs: effectiveExpiryMs(record, policy),
      ipAddress: record.ipAddress,
      userAgent: record.userAgent,
      device: parseDevice(record.userAgent),
      isCurrent: record.id === currentSessionId,
      dpopBound: record.dpopJkt !== null,
      unboundUse: record.lastUnboundUseAtMs === null ? null : { count: record.unboundUseCount, lastAtMs: record.lastUnboundUseAtMs },
      authMethod: record.authMethod,
    };
  }

  return {
    /** Starts a new session (every sign-in is a new session: no fixation). */
    async create(userId: string, client: { ipAddress: string | null; userAgent: string | null }, authMethod: string, binding: { dpopJkt?: string | undefined } = {}) {
      const nowMs = clock.now();
      const record: SessionRecord = {
        id: crypto.randomUUID(),
        userId,
        createdAtMs: nowMs,
        lastActiveAtMs: nowMs,
        expiresAtMs: nowMs + policy.absoluteLifetimeMs,
        revokedAtMs: null,
        revokeReason: null,
        // Header text is cleaned, never refused (http/text-schemas.ts): no NUL reaches PostgreSQL.
        ipAddress: storableHeaderText(client.ipAddress, 100),
        userAgent: storableHeaderText(client.userAgent || null, 512),
        refreshGeneration: 0,
        refreshSalt: newRefreshSalt(),
        refreshRotatedAtMs: null,
        dpopJkt: binding.dpopJkt ?? null,
        unboundUseCount: 0,
        lastUnboundUseAtMs: null,
        authMethod,
      };
      const { created, evictedIds } = await store.create(
        record,
        options.sessionLimit.maxActive > 0 ? { ...options.sessionLimit, window: activeWindow(policy, nowMs) } : undefined,
      );
      if (!created) {
        throw new AppError(
          'session_limit_reached',
          `This account already has ${options.sessionLimit.maxActive} active sessions. Sign out of one of them (from a signed-in device) and try again.`,
        );
      }
      revoked(evictedIds, 'session_limit');
      cache.fill(toCached(record));
      deps.onCreated?.(record.id);
      // expiresAtMs: when the session ends if nothing else happens (its tokens must not outlive it).
      return { session: record, refreshToken: refreshTokens.make(record.id, 0, record.refreshSalt), expiresAtMs: effectiveExpiryMs(record, policy) };
    },

    /**
     * The per-request check behind every protected route: the token's session must exist, belong
     * to the token's subject, be unrevoked and unexpired. Throws invalid_token otherwise.
     */
    async authenticate(claims: AccessClaims): Promise<void> {
      const nowMs = clock.now();
      const entry = await lookup(claims.sessionId, nowMs);
      if (!entry || entry.userId !== claims.userId || !active(entry, nowMs)) {
        throw new AppError('invalid_token', 'The access token is expired, revoked or invalid.');
      }
      noteActivity(entry, nowMs);
    },

    /**
     * The same check from memory alone, for the fast path (http/fast-path.ts): true only when the
     * trusted cache shows the token's session live and the subject's (activity is then noted as
     * authenticate() notes it). False means "not known here", never "refused": the caller must then
     * run authenticate(), which alone refuses. So every refusal has one source.
     */
    authenticateCached(claims: AccessClaims): boolean {
      const nowMs = clock.now();
      const entry = fromCache(claims.sessionId, nowMs);
      if (!entry || entry.userId !== claims.userId || !active(entry, nowMs)) return false;
      telemetry.cacheLookup(true);
      noteActivity(entry, nowMs);
      return true;
    },

    async list(userId: string, currentSessionId: string | undefined, page: number, limit: number) {
      const nowMs = clock.now();
      const { sessions, total } = await store.listActive(userId, activeWindow(policy, nowMs), { offset: (page - 1) * limit, limit });
      return { sessions: sessions.map((s) => view(s, currentSessionId)), total };
    },

    async count(userId: string): Promise<number> {
      return store.countActive(userId, activeWindow(policy, clock.now()));
    },

    /** Validity of one of the caller's sessions; another user's session is simply "not valid". */
    async validate(userId: string, sessionId: string): Promise<Validation> {
      const nowMs = clock.now();
      return validation(await lookup(sessionId, nowMs), userId, nowMs);
    },

    /** validate() from the trusted cache alone; undefined when only the database can answer. */
    validateCached(userId: string, sessionId: string): Validation | undefined {
      const nowMs = clock.now();
      const entry = fromCache(sessionId, nowMs);
      if (!entry) return undefined;
      telemetry.cacheLookup(true);
      return validation(entry, userId, nowMs);
    },

    /** Revokes one of the caller's active sessions; 404 (the same for every cause) otherwise. */
    async revoke(userId: string, sessionId: string, reason: RevokeReason): Promise<void> {
      const done = await store.revoke(sessionId, userId, reason, activeWindow(policy, clock.now()));
      if (!done) throw new AppError('session_not_found', 'No active session with this id belongs to you.');
      revoked([sessionId], reason);
    },

    /** Admin view of a user's sessions, ended ones included, with their state. */
    async listAll(userId: string, filter: 'active' | 'ended' | 'all', page: number, limit: number) {
      const nowMs = clock.now();
      const { sessions, total } = await store.listAll(userId, filter, activeWindow(policy, nowMs), { offset: (page - 1) * limit, limit });
      return {
        sessions: sessions.map((s) => ({
          ...view(s, undefined),
          revokedAtMs: s.revokedAtMs,
          revokeReason: s.revokeReason ?? expiryReason(s, policy, nowMs),
          active: isActive(s, policy, nowMs),
        })),
        total,
      };
    },

    async countAllActive(): Promise<number> {
      return store.countAllActive(activeWindow(policy, clock.now()));
    },

    /** Revokes any active session (admin); 404 when it is not active. */
    async revokeAny(sessionId: string, reason: RevokeReason): Promise<void> {
      const record = await store.get(sessionId);
      const done = record ? await store.revoke(sessionId, record.userId, reason, activeWindow(policy, clock.now())) : false;
      if (!done) throw new AppError('session_not_found', 'No active session with this id.');
      revoked([sessionId], reason);
    },

    /** Revokes every active session of the user (optionally all but one); returns how many. */
    async revokeAll(userId: string, reason: RevokeReason, options: { exceptSessionId?: string } = {}): Promise<number> {
      const ids = await store.revokeAll(userId, reason, activeWindow(policy, clock.now()), options);
      revoked(ids, reason);
      return ids.length;
    },

    /**
     * Housekeeping, in bounded batches: marks expired sessions as ended (reason idle_timeout or
     * absolute_timeout), then deletes sessions that ended more than `retentionMs` ago.
     */
    async sweep(sweepOptions: { retentionMs: number; batchSize: number; maxBatches: number; onProgress?: (p: { expired: number; purged: number }) => void }) {
      let expired = 0;
      let purged = 0;
      for (let i = 0; i < sweepOptions.maxBatches; i++) {
        const marked = await store.markExpired(activeWindow(policy, clock.now()), sweepOptions.batchSize);
        for (const reason of ['idle_timeout', 'absolute_timeout'] as const) {
          revoked(marked.filter((m) => m.reason === reason).map((m) => m.id), reason);
        }
        expired += marked.length;
        sweepOptions.onProgress?.({ expired, purged });
        if (marked.length < sweepOptions.batchSize) break;
      }
      for (let i = 0; i < sweepOptions.maxBatches; i++) {
        const n = await store.purgeEnded(clock.now() - sweepOptions.retentionMs, sweepOptions.batchSize);
        purged += n;
        sweepOptions.onProgress?.({ expired, purged });
        if (n < sweepOptions.batchSize) break;
      }
      return { expired, purged };
    },

    /**
     * Exchanges a refresh token for the next one. Rotation is a compare-and-set on the generation,
     * so of N concurrent refreshes with one token exactly one advances it; the others find their
     * token one generation behind, inside the grace window, and receive the same successor.
     * A genuine token older than that is reuse: the session is revoked (RFC 9700 §4.14.2).
     * `beforeIssue` runs once the token has proved genuine and live, before a token is issued (the
     * per-session rate limit: only verified tokens may count against a session); what it throws
     * is thrown. Reuse revocation does not wait for it.
     */
    async refresh(
      token: unknown,
      hooks: {
        beforeIssue?: (sessionId: string) => Promise<void>;
        /** Thumbprint of the key that signed the request's DPoP proof (dpop/), if it had one. */
        dpopJkt?: string | undefined;
        /** Recorded with a refresh_token.unbound_use event. */
        client?: { ipAddress: string | null; userAgent: string | null };
      } = {},
    ): Promise<{ sessionId: string; userId: string; refreshToken: string; authMethod: string; expiresAtMs: number; dpopJkt: string | null }> {
      const invalid = () => new AppError('invalid_refresh_token', 'The refresh token is invalid, expired or revoked.');
      const parsed = refreshTokens.parse(token);
      if (!parsed) throw invalid();
      let counted = false;
      const beforeIssue = async () => {
        if (counted || !hooks.beforeIssue) return;
        counted = true;
        await hooks.beforeIssue(parsed.sessionId);
      };
      for (let attempt = 0; attempt < 3; attempt++) {
        const record = await store.get(parsed.sessionId);
        // Forged or foreign tokens are refused without touching the session: only a token we
        // really issued can trigger reuse revocation, so knowing a session id is not enough to end it.
        if (!record || !refreshTokens.isGenuine(parsed, record.refreshSalt)) throw invalid();
        const nowMs = clock.now();
        if (!isActive(record, policy, nowMs)) throw invalid();
        // A bound session's refresh token is only half the credential: without a proof by the
        // session's key it is refused before anything else, so a copied token neither extends the
        // session nor triggers reuse revocation (the real device goes on refreshing), and the caller
        // gets the very answer of an invalid token: nothing learned. The attempt is recorded.
        if (record.dpopJkt !== null && !sameKey(record.dpopJkt, hooks.dpopJkt)) {
          await store.recordUnboundUse(record.id, record.userId, nowMs, {
            generation: parsed.generation,
            proof: hooks.dpopJkt === undefined ? 'missing' : 'other_key',
            ipAddress: hooks.client?.ipAddress ?? null,
            userAgent: hooks.client?.userAgent ?? null,
          });
          throw invalid();
        }

        if (parsed.generation === record.refreshGeneration) {
          await beforeIssue();
          const won = await store.rotateRefresh(record.id, record.refreshGeneration, nowMs);
          if (!won) continue; // lost a race: re-read and take the grace path (rotation also set lastActiveAt)
          const fresh = cache.get(record.id);
          if (fresh) fresh.lastActiveAtMs = Math.max(fresh.lastActiveAtMs, nowMs);
          return {
            sessionId: record.id,
            userId: record.userId,
            authMethod: record.authMethod,
            dpopJkt: record.dpopJkt,
            refreshToken: refreshTokens.make(record.id, record.refreshGeneration + 1, record.refreshSalt),
            // The rotation recorded activity now.
            expiresAtMs: effectiveExpiryMs({ expiresAtMs: record.expiresAtMs, lastActiveAtMs: Math.max(record.lastActiveAtMs, nowMs) }, policy),
          };
        }

        const inGrace =
          parsed.generation === record.refreshGeneration - 1 &&
          record.refreshRotatedAtMs !== null &&
          nowMs - record.refreshRotatedAtMs <= options.refreshReuseGraceMs;
        if (inGrace) {
          await beforeIssue();
          return { sessionId: record.id, userId: record.userId, authMethod: record.authMethod, refreshToken: refreshTokens.make(record.id, record.refreshGeneration, record.refreshSalt), expiresAtMs: effectiveExpiryMs(record, policy), dpopJkt: record.dpopJkt };
        }

        if (parsed.generation < record.refreshGeneration) {
          // Reuse of a rotated-away token: thief or victim, we cannot tell, so both lose the session.
          if (await store.revoke(record.id, record.userId, 'refresh_token_reused', activeWindow(policy, nowMs))) {
            revoked([record.id], 'refresh_token_reused');
          }
        }
        throw invalid();
      }
      throw invalid();
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
