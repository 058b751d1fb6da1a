import type { ColumnType, Generated } from 'kysely';

/**
 * Row types: the vocabulary of the stores only. Timestamps are integers (milliseconds since the
 * epoch, UTC) in both dialects, so comparisons and indexes behave the same on SQLite and PostgreSQL.
 */
export interface UserTable {
  id: string;
  /** Normalised (trimmed, lower-cased) so that lookups are case-insensitive with a plain index. */
  email: string;
  name: string | null;
  /** '' for a user created by the application's backend without a password (none can match it). */
  password_hash: string;
  created_at: number;
  /** Set when the account was deleted: the row is then a tombstone (see users/kysely-user-store.ts). */
  deleted_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** The application's own id for the user, when it created them (unique when set). */
  external_id: string | null;
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
  /** RFC 7638 thumbprint of the device key the session is bound to (DPoP); null when unbound. */
  dpop_jkt: string | null;
  /** Refreshes of this key-bound session refused for want of its key (refresh_token.unbound_use), and the latest. */
  unbound_use_count: ColumnType<number, number | undefined, number>;
  last_unbound_use_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** How the user signed in: 'password', or what the issuing backend said ('oauth:google', 'saml'…). */
  auth_method: string;
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

export interface ServiceKeyTable {
  id: string;
  name: string;
  /** Space-separated scopes. */
  scopes: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface PasswordResetTokenTable {
  /** One live token per user: a new one replaces the last. */
  user_id: string;
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  token_hash: string;
  created_at: number;
  expires_at: number;
}

export interface PasswordResetRequestTable {
  id: Generated<number>;
  /** Normalised, as typed: whether it has an account is found out in the background. */
  email: string;
  requested_at: number;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number;
  done_at: number | null;
  last_error: string | null;
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
  service_keys: ServiceKeyTable;
  password_reset_tokens: PasswordResetTokenTable;
  password_reset_requests: PasswordResetRequestTable;
}

