/**
 * Time is injected: every expiry, idle timeout and rotation window reads this clock, so tests move
 * it instead of sleeping.
 */
export interface Clock {
  /** Current time in milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
