import type { ActiveWindow, RevokeReason, SessionRecord } from './session.ts';

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
  /** Inserts a new session. */
  create(session: SessionRecord): Promise<void>;
  /** Reads one session by id, revoked or not; undefined when it does not exist. */
  get(sessionId: string): Promise<SessionRecord | undefined>;
  /** One page of a user's active sessions, most recently active first, and the total count. */
  listActive(userId: string, window: ActiveWindow, page: Page): Promise<{ sessions: SessionRecord[]; total: number }>;
  /** Number of a user's active sessions. */
  countActive(userId: string, window: ActiveWindow): Promise<number>;
  /**
   * Compare-and-set rotation: moves the refresh generation from `fromGeneration` to
   * `fromGeneration + 1` only if the session is still at that generation and unrevoked. Returns
   * whether this call won; concurrent callers with the same generation get exactly one true.
   */
  rotateRefresh(sessionId: string, fromGeneration: number, atMs: number): Promise<boolean>;
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
  /** Ids of sessions revoked at or after sinceMs (the cross-process revocation feed). */
  revokedSince(sinceMs: number, limit: number): Promise<Array<{ id: string; revokedAtMs: number }>>;
}
