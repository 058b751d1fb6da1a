import type { ActiveWindow, RevokeReason, SessionRecord } from './session.ts';

export interface SessionLimit {
  maxActive: number;
  mode: 'refuse' | 'evict';
  window: ActiveWindow;
}

export interface Page {
  offset: number;
  limit: number;
}

/**
 * Persistence of sessions: the whole contract on one screen. Implemented by kysely-session-store.ts
 * for SQLite and PostgreSQL; test/contracts/session-store.contract.ts runs against each.
 * "Active" always means: not revoked, absolute expiry after window.nowMs, last activity after
 * window.idleCutoffMs.
 */
export interface SessionStore {
  /**
   * Inserts a new session. With `limit`, atomically (one transaction, the user's row locked)
   * enforces at most `maxActive` active sessions: in 'refuse' mode nothing is inserted when the
   * user is at the limit; in 'evict' mode the least recently active sessions are revoked with
   * reason session_limit to make room.
   */
  create(session: SessionRecord, limit?: SessionLimit): Promise<{ created: boolean; evictedIds: string[] }>;
  /** Reads one session by id, revoked or not; undefined when it does not exist. */
  get(sessionId: string): Promise<SessionRecord | undefined>;
  /** One page of a user's active sessions, most recently active first, and the total count. */
  listActive(userId: string, window: ActiveWindow, page: Page): Promise<{ sessions: SessionRecord[]; total: number }>;
  /** One page of a user's sessions of any state (admin view), most recently created first. */
  listAll(userId: string, filter: 'active' | 'ended' | 'all', window: ActiveWindow, page: Page): Promise<{ sessions: SessionRecord[]; total: number }>;
  /** Active sessions across all users. */
  countAllActive(window: ActiveWindow): Promise<number>;
  /** Number of a user's active sessions. */
  countActive(userId: string, window: ActiveWindow): Promise<number>;
  /**
   * Compare-and-set rotation: moves the refresh generation from `fromGeneration` to
   * `fromGeneration + 1` only if the session is still at that generation and unrevoked. Returns
   * whether this call won; concurrent callers with the same generation get exactly one true.
   */
  rotateRefresh(sessionId: string, fromGeneration: number, atMs: number): Promise<boolean>;
  /**
   * Records (event refresh_token.unbound_use) that a genuine refresh token of a key-bound session
   * was presented without a proof by its key: the event, and on the session its count and latest
   * time (unboundUseCount, lastUnboundUseAtMs); nothing else of the session changes.
   */
  recordUnboundUse(sessionId: string, userId: string, atMs: number, data: Record<string, unknown>): Promise<void>;
  /** Moves lastActiveAt forward (never backward). */
  touch(sessionId: string, atMs: number): Promise<void>;
  /**
   * Revokes one active session of the given user. Returns false, changing nothing, when the session
   * does not exist, belongs to someone else, or is not active: the ownership check lives in the
   * same statement as the write, so no caller can forget it.
   */
  revoke(sessionId: string, userId: string, reason: RevokeReason, window: ActiveWindow): Promise<boolean>;
  /** Revokes every active session of a user, optionally keeping one; returns the revoked ids. */
  revokeAll(userId: string, reason: RevokeReason, window: ActiveWindow, options?: { exceptSessionId?: string }): Promise<string[]>;
  /**
   * Marks up to `limit` sessions that have expired (absolute or idle) but are still unrevoked as
   * ended, with reason absolute_timeout or idle_timeout; returns what it marked.
   */
  markExpired(window: ActiveWindow, limit: number): Promise<Array<{ id: string; userId: string; reason: 'idle_timeout' | 'absolute_timeout' }>>;
  /** Deletes up to `limit` sessions that ended before `endedBeforeMs`; returns how many. */
  purgeEnded(endedBeforeMs: number, limit: number): Promise<number>;
}
