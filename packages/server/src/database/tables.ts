import type { Generated } from 'kysely';

/**
 * Row types: the vocabulary of the stores only. Timestamps are integers (milliseconds since the
 * epoch, UTC) in both dialects, so comparisons and indexes behave the same on SQLite and PostgreSQL.
 */
export interface UserTable {
  id: string;
  /** Normalised (trimmed, lower-cased) so that lookups are case-insensitive with a plain index. */
  email: string;
  name: string | null;
  password_hash: string;
  created_at: number;
}

export interface SessionTable {
  id: string;
  user_id: string;
  created_at: number;
  last_active_at: number;
  /** Absolute end of the session; the idle timeout is applied on top from last_active_at. */
  expires_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
  ip_address: string | null;
  user_agent: string | null;
  /** Current refresh-token generation; tokens of lower generations are rotated away. */
  refresh_generation: number;
  /** Per-session random salt mixed into refresh-token derivation (not a secret on its own). */
  refresh_salt: string;
  refresh_rotated_at: number | null;
}

export interface SessionEventTable {
  id: Generated<number>;
  type: string;
  session_id: string;
  user_id: string;
  reason: string | null;
  occurred_at: number;
  /** JSON object with event details (ip, user agent, generation…). */
  data: string | null;
  /** PostgreSQL only: the writing transaction's id (xid8, as text), set by the database. The feed reads by it. */
  txid?: Generated<string>;
}

export interface WebhookCursorTable {
  endpoint: string;
  last_event_id: number;
  lease_owner: string | null;
  lease_until: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  /** The endpoint's place in the event feed (events/session-event.ts, FeedPosition); null before the first round. */
  feed_position: string | null;
}

export interface AdminKeyTable {
  id: string;
  name: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface MigrationTable {
  name: string;
  timestamp: string;
}

export interface Database {
  users: UserTable;
  sessions: SessionTable;
  session_events: SessionEventTable;
  webhook_cursors: WebhookCursorTable;
  admin_keys: AdminKeyTable;
}

