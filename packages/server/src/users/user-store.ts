import type { User, UserWithPassword } from './user.ts';

/** Persistence of users. Implemented once per backend; test/contracts/session-store.contract.ts holds its contract (the `users` cases). */
export interface UserStore {
  /**
   * Inserts a user (passwordHash null: without a password); returns false, changing nothing, when
   * the (normalised) email or the external id is taken.
   */
  create(user: UserWithPassword): Promise<boolean>;
  /** Finds a user by normalised email, with the password hash for verification. */
  findByEmail(email: string): Promise<UserWithPassword | undefined>;
  /** Finds a user by id. */
  findById(id: string): Promise<User | undefined>;
  /** Number of users. */
  count(): Promise<number>;
  /** Replaces the stored password hash (rehash on login, password change). */
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  /**
   * Deletes an account: its email, name and password hash are erased at once and it is no longer
   * found (nor counted); only a tombstone with its id remains, which its (revoked) sessions and
   * events refer to until retention purges them. Returns false when there is no such live account.
   */
  markDeleted(id: string, atMs: number): Promise<boolean>;
}
