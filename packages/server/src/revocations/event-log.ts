import type { SessionEvent, SessionEventType } from '../events/session-event.ts';

/** An opaque, durable place in the session-events feed (see FeedLog). */
export type LogPosition = string;

export interface LogEvent extends SessionEvent {
  /** The position just after this event. */
  position: LogPosition;
}

/** A position that does not parse: the client's cursor is malformed (400). */
export class InvalidLogPositionError extends Error {
  override readonly name = 'InvalidLogPositionError';
}

/**
 * What the live streams read from session_events. The feed part (head/after) is ordered by commit
 * and resumable, so a stream's `id:` can stand on it; the snapshot part reads by time.
 */
export interface EventLog {
  /** The position after every event visible now. */
  head(): Promise<LogPosition>;
  /**
   * Events that became visible after `position`, oldest first, at most `limit`, with the position
   * to continue from and whether more are visible already. Throws InvalidLogPositionError.
   */
  after(position: LogPosition, options: { limit: number; types?: readonly SessionEventType[] }): Promise<{ events: LogEvent[]; position: LogPosition; more: boolean }>;
  /** Events of `types` stamped at or after `sinceMs` with id > afterId, oldest first, at most `limit` (the snapshot). */
  stampedSince(sinceMs: number, options: { afterId: number; limit: number; types: readonly SessionEventType[] }): Promise<SessionEvent[]>;
}
