import type { Redis } from 'ioredis';
import type { AttemptVerdict, BackoffPolicy, CounterStore } from './counter-store.ts';

// One round trip, atomic: bump the count, remember the time, start the window on first use.
const INCREMENT = `
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[2])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {count, ttl}
`;

// counter-store.ts `backoffWaitMs` and `attempt`, in one script so that no other instance's attempt
// can slip between the read and the write. ARGV: now, windowMs, freeAttempts, maxDelayMs.
// Returns 0 when the attempt was counted, otherwise the milliseconds to wait.
const ATTEMPT = `
local now = tonumber(ARGV[1])
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
if count >= tonumber(ARGV[3]) then
  local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
  local delay = math.min(2 ^ (count - tonumber(ARGV[3])) * 1000, tonumber(ARGV[4]))
  local wait = last + delay - now
  if wait > 0 then return math.ceil(wait) end
end
redis.call('HSET', KEYS[1], 'count', count + 1, 'last', now)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
`;

export interface RedisCounterStoreOptions {
  now: () => number;
  /** Reported once per outage (when the breaker opens), not once per request. */
  onError: (error: unknown) => void;
  /** While the breaker is open, Redis is probed this often. */
  probeIntervalMs?: number;
  prefix?: string;
}

/**
 * Rate-limit counters shared by every instance, behind a circuit breaker.
 *
 * Why a breaker: a hung Redis (a stopped process, a network black hole) answers nothing, so every
 * command waits out the client's command timeout (250 ms), and a sign-in makes several. After the
 * first failure the breaker opens: every call goes straight to this process's own counters (limits
 * stay in force, per instance) without touching Redis, so an outage of the cache costs
 * authentication nothing beyond that first timeout. A background probe (PING every
 * `probeIntervalMs`) closes the breaker when Redis answers again, and counting resumes there.
 * Counts taken in memory meanwhile are not copied back: after an outage, limits start afresh in
 * Redis (at worst one more window's budget per instance, for the length of the outage).
 */
export class RedisCounterStore implements CounterStore {
  private open = false;
  private probe: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly prefix: string;
  private readonly probeIntervalMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly fallback: CounterStore,
    private readonly options: RedisCounterStoreOptions,
  ) {
    this.prefix = options.prefix ?? 'sessiond:rl:';
    this.probeIntervalMs = options.probeIntervalMs ?? 1000;
  }

  /** Whether counting currently goes to Redis (breaker closed). */
  get usingRedis(): boolean {
    return !this.open;
  }

  private async guarded<T>(inRedis: () => Promise<T>, inMemory: () => Promise<T>): Promise<T> {
    // Not connected: ioredis would refuse at once (no offline queue), but skip even that.
    if (this.open || this.redis.status !== 'ready') {
      if (!this.open) this.trip(new Error(`redis is ${this.redis.status}`));
      return inMemory();
    }
    try {
      return await inRedis();
    } catch (error) {
      this.trip(error);
      return inMemory();
    }
  }

  private trip(error: unknown): void {
    if (this.open || this.closed) return;
    this.open = true;
    this.options.onError(error);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.closed) return;
    this.probe = setTimeout(() => {
      this.redis.ping().then(
        () => {
          this.open = false;
        },
        () => this.scheduleProbe(),
      );
    }, this.probeIntervalMs);
    this.probe.unref();
  }

  increment(key: string, windowMs: number) {
    return this.guarded(
      async () => {
        const [count, ttl] = (await this.redis.eval(INCREMENT, 1, this.prefix + key, String(windowMs), String(this.options.now()))) as [number, number];
        return { count, resetAtMs: this.options.now() + Math.max(ttl, 0) };
      },
      () => this.fallback.increment(key, windowMs),
    );
  }

  attempt(key: string, policy: BackoffPolicy): Promise<AttemptVerdict> {
    return this.guarded(
      async () => {
        const args = [this.options.now(), policy.windowMs, policy.freeAttempts, policy.maxDelayMs].map(String);
        const waitMs = Number(await this.redis.eval(ATTEMPT, 1, this.prefix + key, ...args));
        return waitMs > 0 ? { allowed: false, retryAfterMs: waitMs } : { allowed: true };
      },
      () => this.fallback.attempt(key, policy),
    );
  }

  async reset(key: string) {
    await Promise.all([this.guarded(async () => void (await this.redis.del(this.prefix + key)), async () => {}), this.fallback.reset(key)]);
  }

  /** Stops probing (the app closes the Redis client itself). */
  close(): void {
    this.closed = true;
    clearTimeout(this.probe);
  }
}
