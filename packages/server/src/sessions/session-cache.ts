import type { SessionRecord } from './session.ts';

/** The part of a session the per-request check needs. */
export interface CachedSession {
  id: string;
  userId: string;
  expiresAtMs: number;
  lastActiveAtMs: number;
  revoked: boolean;
}

export function toCached(record: SessionRecord): CachedSession {
  return {
    id: record.id,
    userId: record.userId,
    expiresAtMs: record.expiresAtMs,
    lastActiveAtMs: record.lastActiveAtMs,
    revoked: record.revokedAtMs !== null,
  };
}

/**
 * A bounded, per-process cache of session state, so the per-request check costs no database round
 * trip in the common case. Why it is safe:
 *
 * 1. Revocation is one-way. A revoked entry is a tombstone that a later fill never overwrites, so a
 *    lookup that read the row just before a revocation cannot put a stale "active" entry back.
 * 2. Revocations made in this process mark the entry before the API answers (same tick as the
 *    commit), so the very next request here is refused.
 * 3. Revocations made elsewhere (another worker, instance or the CLI) arrive through the revocation
 *    feed; entries are only trusted while the feed has synced within `maxStalenessMs`. When it has
 *    not (database unreachable, feed stalled), `isTrusted` is false and every check reads the
 *    database: fail closed, never fail open.
 * 4. Expiry needs no invalidation: it is computed from the cached timestamps at each check.
 *
 * Bounded by `maxEntries`: the oldest inserted entry is evicted first (insertion order of a Map);
 * an evicted entry is simply read again from the database.
 */
export class SessionCache {
  private readonly entries = new Map<string, CachedSession>();
  private lastSyncAtMs = Number.NEGATIVE_INFINITY;
  private tombstoneEpoch = 0;

  constructor(
    private readonly options: { maxEntries: number; maxStalenessMs: number },
  ) {}

  /** True when the cross-process feed is recent enough for cached entries to be believed. */
  isTrusted(nowMs: number): boolean {
    return this.options.maxEntries > 0 && nowMs - this.lastSyncAtMs <= this.options.maxStalenessMs;
  }

  /** Records a successful feed sync that started at `startedAtMs`. */
  markSynced(startedAtMs: number): void {
    if (startedAtMs > this.lastSyncAtMs) this.lastSyncAtMs = startedAtMs;
  }

  get(sessionId: string): CachedSession | undefined {
    return this.entries.get(sessionId);
  }

  /**
   * Changes whenever tombstones are dropped (clear(), or a revoked entry evicted). A read that
   * started before such a change may have seen a session just before a revocation whose tombstone
   * is gone, and the feed will not report that revocation again: its fill is discarded.
   */
  get epoch(): number {
    return this.tombstoneEpoch;
  }

  /**
   * Stores state read from the database, unless the session is already known to be revoked, or
   * tombstones were dropped since the read started (`readStartedAtEpoch`, from `epoch`).
   */
  fill(entry: CachedSession, readStartedAtEpoch: number = this.tombstoneEpoch): void {
    if (this.options.maxEntries <= 0 || readStartedAtEpoch !== this.tombstoneEpoch) return;
    const existing = this.entries.get(entry.id);
    if (existing?.revoked) return;
    if (!existing && this.entries.size >= this.options.maxEntries) this.evictOldest();
    this.entries.set(entry.id, entry);
  }

  /** Marks sessions revoked (tombstones); unknown ids get a tombstone too, to defeat an in-flight fill. */
  markRevoked(sessionIds: Iterable<string>): void {
    for (const id of sessionIds) {
      const existing = this.entries.get(id);
      if (existing) {
        existing.revoked = true;
      } else if (this.options.maxEntries > 0) {
        if (this.entries.size >= this.options.maxEntries) this.evictOldest();
        this.entries.set(id, { id, userId: '', expiresAtMs: 0, lastActiveAtMs: 0, revoked: true });
      }
    }
  }

  /** Drops every entry (after a feed gap too large to reconcile). */
  clear(): void {
    this.entries.clear();
    this.tombstoneEpoch++;
  }

  get size(): number {
    return this.entries.size;
  }

  private evictOldest(): void {
    const oldest = this.entries.entries().next();
    if (oldest.done) return;
    this.entries.delete(oldest.value[0]);
    if (oldest.value[1].revoked) this.tombstoneEpoch++;
  }
}
