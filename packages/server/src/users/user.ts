/** A user as the services see it; the password hash never leaves the auth service. */
export interface User {
  id: string;
  email: string;
  name: string | null;
  createdAtMs: number;
}

export interface UserWithPassword extends User {
  passwordHash: string;
}

/** Emails compare case-insensitively: stored and looked up in this form only. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
