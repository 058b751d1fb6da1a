import type { Redis } from 'ioredis';
import type { CounterStore } from './counter-store.ts';

// One round trip, atomic: bump the count, remember the time, start the window on first use.
const INCREMENT = `
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[2])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {count, ttl}
`;

/**
 * Rate-limit counters shared by every instance. When Redis cannot answer, counting falls back to
 * this process's memory: limits stay in force (per instance) and sign-in keeps working, because an
 * outage of the cache must not become an outage of authentication.
 */
export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: Redis,
    private readonly fallback: CounterStore,
    private readonly now: () => number,
    private readonly onError: (error: unknown) => void,
    private readonly prefix = 'sessiond:rl:',
  ) {}

  async increment(key: string, windowMs: number) {
    try {
      const [count, ttl] = (await this.redis.eval(INCREMENT, 1, this.prefix + key, String(windowMs), String(this.now()))) as [number, number];
      return { count, resetAtMs: this.now() + Math.max(ttl, 0) };
    } catch (error) {
      this.onError(error);
      return this.fallback.increment(key, windowMs);
    }
  }

  async peek(key: string) {
    try {
      const [[, values], [, ttl]] = (await this.redis.multi().hgetall(this.prefix + key).pttl(this.prefix + key).exec()) as [[null, Record<string, string>], [null, number]];
      if (!values?.count || ttl <= 0) return { count: 0, resetAtMs: 0, lastAtMs: 0 };
      return { count: Number(values.count), resetAtMs: this.now() + ttl, lastAtMs: Number(values.last ?? 0) };
    } catch (error) {
      this.onError(error);
      return this.fallback.peek(key);
    }
  }

  async reset(key: string) {
    await Promise.all([this.redis.del(this.prefix + key).catch(this.onError), this.fallback.reset(key)]);
  }
}
