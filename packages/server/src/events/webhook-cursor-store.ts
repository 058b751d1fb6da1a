import type { FeedPosition } from './session-event.ts';

/** Where one webhook endpoint stands in the outbox; shared by every instance through the database. */
export interface WebhookCursor {
  endpoint: string;
  /** The endpoint's place in the event feed: every event before it has been acknowledged (2xx). */
  feedPosition: FeedPosition | null;
  /** The id of the last acknowledged event (for the record: delivery follows feedPosition). */
  lastEventId: number;
  /** Failed attempts at the next event since the last success (drives the backoff). */
  attempts: number;
  /** Backing off: no attempt before this time. */
  nextAttemptAtMs: number;
  /** Why the last attempt failed ("HTTP 500", "ECONNREFUSED", "timeout"); null after a success. */
  lastError: string | null;
  leaseOwner: string | null;
  leaseUntilMs: number;
}

export interface WebhookFailure {
  attempts: number;
  nextAttemptAtMs: number;
  error: string;
}

/**
 * Persistence of webhook cursors and their leases (table webhook_cursors). Only the lease holder
 * moves a cursor: every write below is conditional on `lease_owner`, so an instance that lost its
 * lease (paused past its expiry, and another took over) cannot move the cursor under the new holder.
 */
/** A lease asked for at `nowMs`, to last `leaseMs`. */
export interface LeaseTerms {
  nowMs: number;
  leaseMs: number;
}

export interface WebhookCursorStore {
  /** Creates the endpoint's cursor if it has none, at `start` (the feed's head): a new endpoint receives events from then on. */
  ensure(endpoint: string, start: FeedPosition): Promise<void>;
  /** Takes the lease if it is free, expired or already ours, until nowMs + leaseMs; the cursor, or undefined while another owner holds it. */
  acquire(endpoint: string, owner: string, lease: LeaseTerms): Promise<WebhookCursor | undefined>;
  /** Extends our lease to nowMs + leaseMs (a heartbeat during a long POST). False when the lease is no longer ours. */
  renew(endpoint: string, owner: string, lease: LeaseTerms): Promise<boolean>;
  /**
   * After a 2xx: moves the cursor from `from` to `to` (the acknowledged event's feed position),
   * clears the backoff, renews the lease. False, changing nothing, when the lease is no longer ours
   * or the cursor is no longer at `from`.
   */
  advance(endpoint: string, owner: string, move: { from: FeedPosition; to: FeedPosition; eventId: number }, lease: LeaseTerms): Promise<boolean>;
  /** Records a failed attempt and when to try again. False when the lease is no longer ours. */
  recordFailure(endpoint: string, owner: string, failure: WebhookFailure): Promise<boolean>;
  /** Gives the lease up (graceful shutdown), so another instance takes over without waiting for expiry. */
  release(endpoint: string, owner: string): Promise<void>;
  /** The cursor as stored; undefined when the endpoint has none. */
  get(endpoint: string): Promise<WebhookCursor | undefined>;
}
