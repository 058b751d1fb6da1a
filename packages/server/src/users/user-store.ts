import type { User, UserWithPassword } from './user.ts';

/** Persistence of users. Implemented once per backend; test/contracts/user-store.contract.ts holds its contract. */
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
  /** Replaces the stored password hash (rehash on login after a parameter change). */
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
}
