import crypto from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Remembers the proofs already used (RFC 9449 §4.3 step 12, §11.1): a `jti` may be used once per key
 * within the window in which its `iat` is acceptable; after that the iat check refuses it anyway, so
 * entries can be forgotten once that window has passed.
 */
export interface ReplayCache {
  /** True the first time (key, jti) is seen within `ttlMs`, false for a replay. */
  firstUse(jkt: string, jti: string, ttlMs: number): Promise<boolean>;
}

/** One fixed-size entry per proof, whatever the jti's length: SHA-256 of key and jti, truncated to 128 bits. */
const entryKey = (jkt: string, jti: string) => crypto.createHash('sha256').update(jkt).update('\0').update(jti).digest('base64url').slice(0, 22);

/** Thrown when the memory bound is reached with every entry still inside its window. */
export class ReplayCacheFullError extends Error {}

/**
 * In process memory, bounded. Entries all share one ttl, so insertion order is expiry order and the
 * oldest are dropped first once expired. When full of live entries, a new proof is refused
 * (ReplayCacheFullError) rather than an old entry dropped: dropping one would reopen its replay.
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly entries = new Map<string, number>();

  constructor(private readonly options: { maxEntries: number; now: () => number }) {}

  async firstUse(jkt: string, jti: string, ttlMs: number): Promise<boolean> {
    return this.firstUseSync(entryKey(jkt, jti), ttlMs);
  }

  firstUseSync(key: string, ttlMs: number): boolean {
    const nowMs = this.options.now();
    const seen = this.entries.get(key);
    if (seen !== undefined && seen > nowMs) return false;
    if (this.entries.size >= this.options.maxEntries) {
      for (const [oldKey, expiresAtMs] of this.entries) {
        if (expiresAtMs > nowMs) break;
        this.entries.delete(oldKey);
      }
      if (this.entries.size >= this.options.maxEntries) throw new ReplayCacheFullError('DPoP replay cache full');
    }
    this.entries.delete(key);
    this.entries.set(key, nowMs + ttlMs);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * Shared by every instance through Redis (`SET key 1 NX PX ttl`: atomic, so of two instances
 * receiving the same proof exactly one sees it first), with the process's own memory checked first.
 * When Redis fails, the memory cache alone decides: a replay to the same instance is still refused,
 * a replay to another instance during the outage is not (the documented cost of Redis being optional).
 */
export class RedisReplayCache implements ReplayCache {
  constructor(
    private readonly redis: Redis,
    private readonly local: MemoryReplayCache,
    private readonly onError: (error: unknown) => void,
  ) {}

  async firstUse(jkt: string, jti: string, ttlMs: number): Promise<boolean> {
    const key = entryKey(jkt, jti);
    if (!this.local.firstUseSync(key, ttlMs)) return false;
    try {
      return (await this.redis.set(`sessiond:dpop:jti:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
    } catch (error) {
      this.onError(error);
      return true;
    }
  }
}
