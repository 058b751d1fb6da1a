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

export interface MigrationTable {
  name: string;
  timestamp: string;
}

export interface Database {
  users: UserTable;
  sessions: SessionTable;
}

export type { Generated };
