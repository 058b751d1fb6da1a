import { AppError } from '../errors.ts';
import { addressKey } from './client-address.ts';
import type { BackoffPolicy, CounterStore } from './counter-store.ts';

export interface RateLimitPolicy {
  enabled: boolean;
  perIpPerMinute: number;
  failuresBeforeDelay: number;
  maxDelaySeconds: number;
  /** IPv6 clients are counted per network of this prefix length (64: one budget per /64). */
  ipv6PrefixLength: number;
}

/** A sign-in's attempt count is forgotten this long after the last counted attempt. */
const ATTEMPT_WINDOW_MS = 15 * 60_000;

function tooMany(detail: string, retryAfterSeconds: number): AppError {
  return new AppError('rate_limited', detail, { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
}

/** Whose budget a sign-in attempt spends: a device known to the account, or the account's shared one. */
export interface SignInBudget {
  /** The account as typed (normalised email), known or not. */
  account: string;
  /** The id of a valid device cookie bound to that account (abuse/device-cookies.ts), if one came. */
  deviceId: string | undefined;
}

const budgetKey = (budget: SignInBudget) => (budget.deviceId ? `signin:device:${budget.deviceId}` : `signin:account:${budget.account}`);

/**
 * Anti-automation for sign-in, sign-up and refresh (ASVS 6.3.1, 2.4.1):
 * - per client address (normalised; IPv6 per network prefix), and for refresh per verified session,
 *   a fixed number of requests per minute;
 * - per account, a back-off on password checks: `failuresBeforeDelay` attempts back to back, then
 *   each further one must wait twice as long as the previous one, capped at `maxDelaySeconds`.
 *   An attempt is counted atomically BEFORE its password hash runs (`beginSignIn`), so however
 *   many guesses arrive at once, on however many instances sharing the counters, no more reach the
 *   password check than the back-off allows.
 * - Lockout cannot be turned against the owner (OWASP "Slow Down Online Guessing Attacks with
 *   Device Cookies"): a browser or client that signed in to the account before presents a device
 *   cookie bound to the account, and its attempts spend that device's own budget. A guesser without
 *   such a cookie only exhausts the account's shared budget for other unknown clients.
 */
export function createRateLimiter(store: CounterStore, policy: RateLimitPolicy, now: () => number) {
  const backoff: BackoffPolicy = {
    freeAttempts: policy.failuresBeforeDelay,
    maxDelayMs: policy.maxDelaySeconds * 1000,
    windowMs: ATTEMPT_WINDOW_MS,
  };
  const windowed = async (key: string) => {
    const { count, resetAtMs } = await store.increment(key, 60_000);
    return { over: count > policy.perIpPerMinute, resetAtMs };
  };

  return {
    /** Counts one request of `action` by a session id or other exact subject; throws past the per-minute limit. */
    async check(action: string, subject: string): Promise<void> {
      if (!policy.enabled) return;
      const { over, resetAtMs } = await windowed(`${action}:${subject}`);
      if (over) throw tooMany('Too many requests; slow down.', (resetAtMs - now()) / 1000);
    },

    /** Like `check`, keyed on the client's normalised address (see client-address.ts). */
    async checkAddress(action: string, address: string | null): Promise<void> {
      if (!policy.enabled) return;
      const { over, resetAtMs } = await windowed(`${action}:${addressKey(address, policy.ipv6PrefixLength)}`);
      if (over) throw tooMany('Too many requests from this network; slow down.', (resetAtMs - now()) / 1000);
    },

    /**
     * Claims one password check from the budget before the hash runs; throws rate_limited while
     * the budget is in its back-off. Every attempt counts, the right password included; a success
     * then clears the budget it spent (`signInSucceeded`).
     */
    async beginSignIn(budget: SignInBudget): Promise<void> {
      if (!policy.enabled) return;
      const verdict = await store.attempt(budgetKey(budget), backoff);
      if (!verdict.allowed) {
        throw tooMany(
          budget.deviceId
            ? 'Too many failed sign-in attempts from this device; wait before trying again.'
            : 'Too many failed sign-in attempts for this account; wait before trying again, or sign in from a device that has signed in before.',
          verdict.retryAfterMs / 1000,
        );
      }
    },

    /** The right password was given: the budget that attempt spent starts afresh (other budgets are untouched). */
    async signInSucceeded(budget: SignInBudget): Promise<void> {
      if (policy.enabled) await store.reset(budgetKey(budget));
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
