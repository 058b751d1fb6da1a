/**
 * Counters for rate limiting. The in-memory store serves one process; with several instances a
 * shared store (Redis) gives every instance the same counts.
 */
export interface CounterStore {
  /** Adds one to the key's counter in the current fixed window; returns the count and when the window ends. */
  increment(key: string, windowMs: number): Promise<{ count: number; resetAtMs: number }>;
  /**
   * Claims one attempt under the key's back-off (`backoffWaitMs`), atomically: either the attempt
   * is counted and allowed, or nothing changes and the answer says how long to wait. Atomic is the
   * point: concurrent callers cannot all read "allowed" before any of them writes.
   */
  attempt(key: string, policy: BackoffPolicy): Promise<AttemptVerdict>;
  /** Forgets the key. */
  reset(key: string): Promise<void>;
}

export interface BackoffPolicy {
  /** Attempts allowed back to back before each further one must wait. */
  freeAttempts: number;
  /** Cap of the wait between attempts, in milliseconds. */
  maxDelayMs: number;
  /** The count is forgotten this long after the last counted attempt. */
  windowMs: number;
}

export type AttemptVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * The back-off rule, the one definition (redis-counter-store.ts runs the same arithmetic in Lua):
 * with `count` attempts counted so far, the last at `lastAtMs`, the next one may run after
 * 0 ms while count < freeAttempts, then after 1 s, 2 s, 4 s … (doubling per attempt), capped at
 * maxDelayMs. Returns how long to wait from `nowMs` (0 = now).
 */
export function backoffWaitMs(count: number, lastAtMs: number, nowMs: number, policy: BackoffPolicy): number {
  if (count < policy.freeAttempts) return 0;
  const delayMs = Math.min(2 ** (count - policy.freeAttempts) * 1000, policy.maxDelayMs);
  return Math.max(0, lastAtMs + delayMs - nowMs);
}

interface Entry {
  count: number;
  resetAtMs: number;
  lastAtMs: number;
}

export class MemoryCounterStore implements CounterStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly now: () => number,
    /** Bound on tracked keys: a flood of distinct keys evicts the oldest instead of growing memory. */
    private readonly maxKeys = 100_000,
  ) {}

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.resetAtMs > now) return entry;
    this.entries.delete(key);
    return undefined;
  }

  private insert(key: string, entry: Entry): Entry {
    if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, entry);
    return entry;
  }

  async increment(key: string, windowMs: number) {
    const now = this.now();
    const entry = this.live(key, now) ?? this.insert(key, { count: 0, resetAtMs: now + windowMs, lastAtMs: now });
    entry.count += 1;
    entry.lastAtMs = now;
    return { count: entry.count, resetAtMs: entry.resetAtMs };
  }

  // Synchronous from read to write (no await in between): atomic within this process.
  async attempt(key: string, policy: BackoffPolicy): Promise<AttemptVerdict> {
    const now = this.now();
    const entry = this.live(key, now);
    const waitMs = entry ? backoffWaitMs(entry.count, entry.lastAtMs, now, policy) : 0;
    if (waitMs > 0) return { allowed: false, retryAfterMs: waitMs };
    const counted = entry ?? this.insert(key, { count: 0, resetAtMs: 0, lastAtMs: now });
    counted.count += 1;
    counted.lastAtMs = now;
    counted.resetAtMs = now + policy.windowMs;
    return { allowed: true };
  }

  async reset(key: string) {
    this.entries.delete(key);
  }
}
