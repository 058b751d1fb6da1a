import type { SessionEvent, SessionEventType } from '../events/session-event.ts';

/** The events that end a session: what the revocation stream reports. */
export const sessionEndTypes: readonly SessionEventType[] = ['session.revoked', 'session.expired'];

/**
 * Reading the session_events log for the live streams (revocations for services, device events
 * for users). A position is an event id; ids are the log's order.
 */
export interface EventLog {
  /** The highest event id, 0 when the log is empty. */
  headId(): Promise<number>;
  /** Events with id > afterId, oldest first, at most `limit`; only `types` when given. */
  after(afterId: number, limit: number, types?: readonly SessionEventType[]): Promise<SessionEvent[]>;
  /** Events of `types` stamped at or after `sinceMs` with id > afterId, oldest first, at most `limit`. */
  stampedSince(sinceMs: number, afterId: number, limit: number, types: readonly SessionEventType[]): Promise<SessionEvent[]>;
  /** When the event with this id was stamped; undefined when there is no such event. */
  stampOf(id: number): Promise<number | undefined>;
}
