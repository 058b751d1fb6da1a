/** A user as the services see it; the password hash never leaves the auth service. */
export interface User {
  id: string;
  email: string;
  name: string | null;
  createdAtMs: number;
  /** The application's own id, for users its backend created (PUT /admin/users/by-email/{email}). */
  externalId: string | null;
}

export interface UserWithPassword extends User {
  /** null: no password set (a user created by the application's backend, until a reset sets one). */
  passwordHash: string | null;
}

/** Emails compare case-insensitively: stored and looked up in this form only. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
