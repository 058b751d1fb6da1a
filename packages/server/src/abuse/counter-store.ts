/**
 * Counters for rate limiting: a fixed window per key. The in-memory store serves one process;
 * with several instances a shared store (Redis) gives every instance the same counts.
 */
export interface CounterStore {
  /** Adds one to the key's counter in the current window; returns the count and when the window ends. */
  increment(key: string, windowMs: number): Promise<{ count: number; resetAtMs: number }>;
  /** Reads the counter without changing it (0 when absent or expired). */
  peek(key: string): Promise<{ count: number; resetAtMs: number; lastAtMs: number }>;
  /** Forgets the key. */
  reset(key: string): Promise<void>;
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

  async increment(key: string, windowMs: number) {
    const now = this.now();
    let entry = this.entries.get(key);
    if (!entry || entry.resetAtMs <= now) {
      this.entries.delete(key);
      if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
      entry = { count: 0, resetAtMs: now + windowMs, lastAtMs: now };
      this.entries.set(key, entry);
    }
    entry.count += 1;
    entry.lastAtMs = now;
    return { count: entry.count, resetAtMs: entry.resetAtMs };
  }

  async peek(key: string) {
    const entry = this.entries.get(key);
    if (!entry || entry.resetAtMs <= this.now()) return { count: 0, resetAtMs: 0, lastAtMs: 0 };
    return { ...entry };
  }

  async reset(key: string) {
    this.entries.delete(key);
  }
}
