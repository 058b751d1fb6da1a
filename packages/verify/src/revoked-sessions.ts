/**
 * The sessions the stream has reported as ended, in memory. Bounded by time, not by count: an entry
 * matters only while a token of that session can still be unexpired, i.e. for one access-token
 * lifetime after the session ended (no token is issued for an ended session). Dropping by count
 * instead would let a flood of revocations push out one that still matters.
 */
export class RevokedSessions {
  /** sessionId -> endedAt (ms). Insertion order is roughly endedAt order, so pruning scans the front. */
  private readonly ended = new Map<string, number>();

  add(sessionId: string, endedAtMs: number): void {
    const known = this.ended.get(sessionId);
    if (known === undefined || endedAtMs > known) {
      this.ended.delete(sessionId);
      this.ended.set(sessionId, endedAtMs);
    }
  }

  has(sessionId: string): boolean {
    return this.ended.has(sessionId);
  }

  /** Drops what ended before `beforeMs`. Entries out of order are kept until one older is found after them: safe, only later. */
  prune(beforeMs: number): void {
    for (const [sessionId, endedAtMs] of this.ended) {
      if (endedAtMs >= beforeMs) break;
      this.ended.delete(sessionId);
    }
  }

  get size(): number {
    return this.ended.size;
  }
}
