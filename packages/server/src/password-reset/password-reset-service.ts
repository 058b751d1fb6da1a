import type { RateLimiter } from '../abuse/rate-limiter.ts';
import { checkPasswordPolicy, type ClientInfo, type PasswordPolicy } from '../auth/auth-service.ts';
import type { PasswordHasher } from '../auth/password-hasher.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { SessionService } from '../sessions/session-service.ts';
import { normalizeEmail } from '../users/user.ts';
import type { UserStore } from '../users/user-store.ts';
import type { PasswordResetStore } from './password-reset-store.ts';
import { hashResetToken, RESET_TOKEN_SHAPE } from './reset-token.ts';

export interface PasswordResetServiceDeps {
  store: PasswordResetStore;
  users: UserStore;
  sessions: SessionService;
  hasher: PasswordHasher;
  limiter: RateLimiter;
  clock: Clock;
  passwordPolicy: PasswordPolicy;
}

export function createPasswordResetService(deps: PasswordResetServiceDeps) {
  const { store, users, sessions, hasher, limiter, clock, passwordPolicy } = deps;
  const invalid = () => new AppError('invalid_reset_token', 'This password reset link is invalid, already used, replaced by a newer one or expired. Ask for a new one.');

  return {
    /**
     * Queues a reset for an email. The same work and the same answer whether or not the email has
     * an account (no enumeration, by status, body or timing): the request only counts against the
     * limits and inserts one row; finding the account, making the token and sending happen in the
     * background (reset-deliverer.ts), after the answer.
     */
    async request(email: string, client: ClientInfo): Promise<void> {
      const normalized = normalizeEmail(email);
      await limiter.check('ip:password-reset', client.ipAddress ?? 'unknown');
      // Per account (the email as typed, known or not): a few requests, then a doubling wait,
      // capped, so nobody can flood an inbox. The per-account back-off of the limiter speaks of
      // sign-ins, so its sentence is replaced, its Retry-After kept.
      // Counted atomically before anything else runs (abuse/rate-limiter.ts), in a budget of its own.
      const budget = { account: `password-reset:${normalized}`, deviceId: undefined };
      try {
        await limiter.beginSignIn(budget);
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'rate_limited') throw error;
        throw new AppError('rate_limited', 'Too many password reset requests for this address; wait before asking again.', { retryAfterSeconds: error.retryAfterSeconds });
      }
      await store.enqueue(normalized, clock.now());
    },

    /**
     * Sets a new password with a reset token (single use) and ends every session of the account
     * (reason password_reset). Every kind of bad token gets the same answer.
     */
    async confirm(token: string, newPassword: string, client: ClientInfo): Promise<void> {
      await limiter.check('ip:password-reset-confirm', client.ipAddress ?? 'unknown');
      if (!RESET_TOKEN_SHAPE.test(token)) throw invalid();
      const tokenHash = hashResetToken(token);
      const userId = await store.findUserByToken(tokenHash, clock.now());
      const user = userId === undefined ? undefined : await users.findById(userId);
      if (!user) throw invalid();
      // Checked before the token is used up: a refused password leaves the link usable.
      checkPasswordPolicy(newPassword, user.email, passwordPolicy);
      const passwordHash = await hasher.hash(newPassword);
      // Sessions end before the password changes (if what follows fails, no session of the old
      // password is left behind), and again after, for a sign-in with the old password that was
      // being verified meanwhile.
      await sessions.revokeAll(user.id, 'password_reset');
      if ((await store.consume(tokenHash, clock.now(), passwordHash)) !== user.id) throw invalid();
      await sessions.revokeAll(user.id, 'password_reset');
      // The account's sign-in back-off is for guesses at the old password.
      await limiter.signInSucceeded({ account: user.email, deviceId: undefined });
    },
  };
}

export type PasswordResetService = ReturnType<typeof createPasswordResetService>;
