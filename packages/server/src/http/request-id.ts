import crypto from 'node:crypto';

/** A caller's X-Request-Id is kept when it is this sane (so ids can be followed across services). */
const SAFE_ID = /^[\w.:-]{1,64}$/;

/**
 * This process's prefix: 48 random bits, so ids of different processes and instances do not
 * collide. A request id needs to be unique, not unguessable (it grants nothing), so the rest is a
 * counter: a UUID per request cost a measurable share of a session check (docs/BENCHMARKS.md).
 */
const prefix = crypto.randomBytes(6).toString('hex');
let counter = 0;

/** The id of a request: the caller's X-Request-Id when it is sane, otherwise `<process prefix>-<counter>`. */
export function requestId(given: string | string[] | undefined): string {
  if (typeof given === 'string' && SAFE_ID.test(given)) return given;
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${counter.toString(36)}`;
}
