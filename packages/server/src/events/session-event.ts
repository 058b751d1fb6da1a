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
] as const;

export type SessionEventType = (typeof sessionEventTypes)[number];

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

/** Reading the audit log / outbox. Events are written by the session store, in the same transaction as the change. */
export interface EventStore {
  /** Events matching the filter, oldest first, at most `limit`. */
  list(filter: EventFilter, limit: number): Promise<SessionEvent[]>;
  /** The highest event id, 0 when there is none. */
  lastId(): Promise<number>;
}
