import { AppError } from '../errors.ts';
import type { CounterStore } from './counter-store.ts';

export interface RateLimitPolicy {
  enabled: boolean;
  perIpPerMinute: number;
  failuresBeforeDelay: number;
  maxDelaySeconds: number;
}

/** Failed sign-ins of one account are remembered this long. */
const FAILURE_WINDOW_MS = 15 * 60_000;

function tooMany(detail: string, retryAfterSeconds: number): AppError {
  return new AppError('rate_limited', detail, { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
}

/**
 * Anti-automation for sign-in, sign-up and refresh (ASVS 6.3.1, 2.4.1):
 * - per client IP (and, for refresh, per session), a fixed number of requests per minute;
 * - per account, after `failuresBeforeDelay` failed sign-ins each further attempt must wait twice
 *   as long as the previous one, capped at `maxDelaySeconds`. The cap is the point: an attacker
 *   can slow the real user down by at most that much, never lock them out.
 */
export function createRateLimiter(store: CounterStore, policy: RateLimitPolicy, now: () => number) {
  return {
    /** Counts one request of `action` by `subject` (a client IP, a session id); throws past the per-minute limit. */
    async check(action: string, subject: string): Promise<void> {
      if (!policy.enabled) return;
      const { count, resetAtMs } = await store.increment(`${action}:${subject}`, 60_000);
      if (count > policy.perIpPerMinute) {
        throw tooMany('Too many requests; slow down.', (resetAtMs - now()) / 1000);
      }
    },

    /** Throws rate_limited while the account is in its back-off delay. */
    async checkAccount(account: string): Promise<void> {
      if (!policy.enabled) return;
      const { count, lastAtMs } = await store.peek(`fail:${account}`);
      const over = count - policy.failuresBeforeDelay;
      if (over < 0) return;
      const delayMs = Math.min(2 ** over * 1000, policy.maxDelaySeconds * 1000);
      const waitMs = lastAtMs + delayMs - now();
      if (waitMs > 0) throw tooMany('Too many failed sign-in attempts for this account; wait before trying again.', waitMs / 1000);
    },

    async recordFailure(account: string): Promise<void> {
      if (policy.enabled) await store.increment(`fail:${account}`, FAILURE_WINDOW_MS);
    },

    async recordSuccess(account: string): Promise<void> {
      if (policy.enabled) await store.reset(`fail:${account}`);
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
