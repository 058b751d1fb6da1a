import type { NewSessionEvent } from '../events/session-event.ts';

/** One queued reset request (the outbox row): an email as typed, which may have no account. */
export interface ResetRequest {
  id: number;
  email: string;
  requestedAtMs: number;
  attempts: number;
}

export interface ResetTokenRecord {
  userId: string;
  tokenHash: string;
  createdAtMs: number;
  expiresAtMs: number;
}

/**
 * Persistence of password resets: the outbox of requests and the (hashed) tokens. Implemented by
 * kysely-password-reset-store.ts; test/contracts/password-reset-store.contract.ts holds the contract.
 */
export interface PasswordResetStore {
  /** Queues a request: one insert, whether or not the email has an account. */
  enqueue(email: string, nowMs: number): Promise<void>;
  /**
   * Leases up to `limit` undone requests that are due (next attempt reached, no live lease of
   * another owner) to `owner` until nowMs + leaseMs, oldest first, and returns them.
   */
  claimDue(owner: string, nowMs: number, leaseMs: number, limit: number): Promise<ResetRequest[]>;
  /** Marks a request done (delivered, or nothing to deliver); only while `owner` holds it. */
  complete(id: number, owner: string, nowMs: number, note?: string): Promise<void>;
  /** Records a failed attempt: retried from nextAttemptAtMs; the lease is released. */
  recordFailure(id: number, owner: string, failure: { attempts: number; nextAttemptAtMs: number; error: string }): Promise<void>;
  /**
   * Stores the user's new token, replacing (so voiding) any earlier one. With `event` and
   * `complete`, in the same transaction appends the event to the outbox and marks the request done.
   */
  saveToken(token: ResetTokenRecord, options?: { event?: NewSessionEvent; complete?: { id: number; owner: string; nowMs: number } }): Promise<void>;
  /** The user of a live (unexpired, unused, not replaced) token, or undefined. */
  findUserByToken(tokenHash: string, nowMs: number): Promise<string | undefined>;
  /**
   * Uses a live token up and sets the user's password hash, in one transaction; returns the user's
   * id, or undefined (nothing changed) when the token is not live: single use even under races.
   */
  consume(tokenHash: string, nowMs: number, passwordHash: string): Promise<string | undefined>;
  /** Deletes requests done before `doneBeforeMs` and tokens expired by `nowMs`; returns how many rows. */
  purge(doneBeforeMs: number, nowMs: number): Promise<number>;
}
