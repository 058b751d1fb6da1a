/**
 * Session lifecycle events: the audit log, and what webhooks deliver. `password_reset.requested`
 * is the one event without a session: the reset link for an application that sends its own mail
 * (no SMTP_URL); its `data.link` is sealed at rest (password-reset/reset-token.ts).
 */
export const sessionEventTypes = [
  'session.created',
  'session.refreshed',
  'session.revoked',
  'session.expired',
  'refresh_token.reused',
  'password_reset.requested',
  'refresh_token.unbound_use',
] as const;

export type SessionEventType = (typeof sessionEventTypes)[number];

/**
 * The events that end a session (a revocation, or an expiry the sweeper marked): what the revocation
 * feed tombstones, the revocation stream announces and a device's stream reports as ended.
 */
export const sessionEndTypes: readonly SessionEventType[] = ['session.revoked', 'session.expired'];

export const isSessionEnd = (type: SessionEventType): boolean => sessionEndTypes.includes(type);

export interface NewSessionEvent {
  type: SessionEventType;
  /** null for the events about an account rather than a session (password_reset.requested). */
  sessionId: string | null;
  userId: string;
  /** The revocation or expiry reason, for session.revoked / session.expired. */
  reason: string | null;
  occurredAtMs: number;
  data?: Record<string, unknown>;
}

export interface SessionEvent extends NewSessionEvent {
  /** Increasing: the order of the audit log and of webhook delivery. */
  id: number;
  data: Record<string, unknown>;
}

export interface EventFilter {
  type?: SessionEventType;
  userId?: string;
  sessionId?: string;
  /** Only events with id greater than this (keyset pagination). */
  afterId?: number;
}

/**
 * A place in the event feed: an opaque string, durable (it means the same after a restart of the
 * service or the database) and resumable (reading after it returns exactly the events that became
 * visible after it, each once). Safe to store, and to hand to a client as an SSE `id:`; a position
 * that does not parse is refused (InvalidFeedPositionError).
 *
 * Why not an event id: on PostgreSQL ids come from a sequence at INSERT, not at COMMIT, so a
 * transaction holding id 7 can commit after one holding id 8, and a reader that moved past 8 would
 * never see 7 (nor would a timestamp cursor, whatever its overlap: a commit can always be later).
 * The feed is ordered by commit instead: see kysely-event-store.ts.
 */
export type FeedPosition = string;

export interface FeedEvent extends SessionEvent {
  /** The position just after this event: resuming from it returns the events after this one. */
  position: FeedPosition;
}

export interface FeedPage {
  events: FeedEvent[];
  /** Where to continue: after the last event returned, or after everything visible now when none is left. */
  position: FeedPosition;
  /** More events are already visible after `position` (the page was full). */
  more: boolean;
}

export class InvalidFeedPositionError extends Error {
  override readonly name = 'InvalidFeedPositionError';
}

/** Reading the audit log / outbox. Events are written by the session store, in the same transaction as the change. */
export interface EventStore {
  /** Events matching the filter, oldest first, at most `limit`. */
  list(filter: EventFilter, limit: number): Promise<SessionEvent[]>;
  /** The highest event id, 0 when there is none. */
  lastId(): Promise<number>;
  /** The position after every event visible now: a new reader starting here receives the events from now on. */
  feedHead(): Promise<FeedPosition>;
  /**
   * Events that became visible after `position`, at most `limit`, in commit order (ids ascending
   * among the events of one read; the events of one session always in id order, since its writes
   * are serialised by its row). An event committed late, long after its id was taken or its
   * timestamp stamped, is still returned, once. `types` filters without losing the place.
   */
  feedAfter(position: FeedPosition, options: { limit: number; types?: readonly SessionEventType[] }): Promise<FeedPage>;
}
