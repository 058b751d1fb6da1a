import crypto from 'node:crypto';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { SessionService } from '../sessions/session-service.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import { normalizeEmail, type User, type UserWithPassword } from '../users/user.ts';
import type { UserStore } from '../users/user-store.ts';
import type { RateLimiter } from '../abuse/rate-limiter.ts';
import type { DeviceCookies } from '../abuse/device-cookies.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { isCommonPassword } from './common-passwords.ts';
import { noopTelemetry, type Telemetry } from '../observability/telemetry.ts';
import { PASSWORD_AUTH_METHOD } from '../sessions/session.ts';

export interface ClientInfo {
  ipAddress: string | null;
  userAgent: string | null;
}

export interface IssuedTokens {
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  expiresInSeconds: number;
  /** The device key the session is bound to (DPoP), or null: then the tokens are bearer tokens. */
  dpopJkt: string | null;
}

export interface AuthServiceDeps {
  users: UserStore;
  sessions: SessionService;
  accessTokens: AccessTokens;
  hasher: PasswordHasher;
  limiter: RateLimiter;
  devices: DeviceCookies;
  clock: Clock;
  passwordPolicy: PasswordPolicy;
  onBackgroundError?: (error: unknown) => void;
  telemetry?: Telemetry;
}

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
}

/**
 * The password policy of sign-up, and of every other place a password is set (a reset): throws
 * weak_password with a sentence saying what to change.
 */
export function checkPasswordPolicy(password: string, email: string, passwordPolicy: PasswordPolicy): void {
  // Length in code points, as a person counts characters (ASVS 6.2.1: at least 8; 6.2.9: at
  // least 64 allowed; no composition rules). The upper bound caps hashing work per request.
  const length = [...password].length;
  if (length < passwordPolicy.minLength) {
    throw new AppError('weak_password', `The password must have at least ${passwordPolicy.minLength} characters.`);
  }
  if (length > passwordPolicy.maxLength) {
    throw new AppError('weak_password', `The password must have at most ${passwordPolicy.maxLength} characters.`);
  }
  if (password.trim().length === 0 || normalizeEmail(password) === email) {
    throw new AppError('weak_password', 'The password must not be blank or equal to the email address.');
  }
  if (isCommonPassword(password)) {
    throw new AppError('weak_password', 'This password is one of the most common ones and easy to guess; choose another.');
  }
}

const USER_CACHE_MAX = 10_000;
const USER_CACHE_TTL_MS = 5 * 60_000;

export function createAuthService(deps: AuthServiceDeps) {
  const { users, sessions, accessTokens, hasher, limiter, devices, clock, passwordPolicy } = deps;
  const telemetry = deps.telemetry ?? noopTelemetry;
  const userCache = new Map<string, { user: User; expiresAtMs: number }>();
  // Verified against when the email is unknown, so a miss costs the same argon2 work as a hit
  // and response timing does not reveal which emails are registered.
  const dummyHash = hasher.hash(crypto.randomBytes(16).toString('base64url'));
  dummyHash.catch(() => {});

  async function startSession(user: User, client: ClientInfo, authMethod: string, dpopJkt?: string): Promise<IssuedTokens> {
    const { session, refreshToken, expiresAtMs } = await sessions.create(user.id, client, authMethod, { dpopJkt });
    // A sign-in racing the account's deletion: it found the user before the deletion and created
    // its session after the deletion revoked the account's sessions. Re-read after the session is
    // committed: the deletion marks the account before it revokes, so either that revocation saw
    // this session or this read sees the deletion, and the session is ended here.
    if (!(await users.findById(user.id))) {
      await sessions.revokeAll(user.id, 'account_deleted');
      throw new AppError('invalid_credentials', 'The email or password is incorrect.');
    }
    const access = await accessTokens.issue(user.id, session.id, { authMethod, notAfterMs: expiresAtMs, jkt: session.dpopJkt });
    return { sessionId: session.id, accessToken: access.token, refreshToken, expiresInSeconds: access.expiresInSeconds, dpopJkt: session.dpopJkt };
  }

  /**
   * Re-authentication for account changes (password change, deletion): the current password,
   * checked like a sign-in, and counted in the same per-account back-off, so a stolen access token
   * cannot be used to guess the password faster than the sign-in form allows.
   */
  async function verifyCurrentPassword(userId: string, password: string): Promise<UserWithPassword> {
    const user = await users.findById(userId);
    // The session check passed a moment ago; a user gone since is a dead credential.
    if (!user) throw new AppError('invalid_token', 'The account no longer exists.');
    // The account's shared budget (no device cookie reaches these routes), counted before the hash.
    const budget = { account: user.email, deviceId: undefined };
    await limiter.beginSignIn(budget);
    const found = await users.findByEmail(user.email);
    // An account without a password (issued by the application's backend) has no current one to give.
    const storedHash = found?.passwordHash ?? null;
    if (!found || !(await hasher.verify(storedHash ?? (await dummyHash), password)) || storedHash === null) {
      throw new AppError('wrong_password', 'The current password is incorrect.');
    }
    await limiter.signInSucceeded(budget);
    return found;
  }

  /**
   * Deletes an account: first marked deleted (its email, name and password hash erased, no longer
   * found, so no new sign-in or refresh can start), then every session is revoked through the one
   * revocation path (events, webhooks, this process's cache at once, other processes by push and
   * the feed). In that order, so a racing sign-in is caught by startSession's re-read.
   */
  async function deleteUser(userId: string): Promise<{ revokedCount: number } | undefined> {
    if (!(await users.markDeleted(userId, clock.now()))) return undefined;
    userCache.delete(userId);
    return { revokedCount: await sessions.revokeAll(userId, 'account_deleted') };
  }

  return {
    /** Creates the account and its first session; `deviceCookie` is the new value of the device cookie (abuse/device-cookies.ts). */
    async register(input: { email: string; password: string; name?: string | undefined }, client: ClientInfo, options: { deviceCookie?: string | undefined; dpopJkt?: string | undefined } = {}) {
      await limiter.checkAddress('ip:register', client.ipAddress);
      const email = normalizeEmail(input.email);
      checkPasswordPolicy(input.password, email, passwordPolicy);
      const user: User = { id: crypto.randomUUID(), email, name: input.name?.trim() || null, createdAtMs: clock.now(), externalId: null };
      const passwordHash = await hasher.hash(input.password);
      if (!(await users.create({ ...user, passwordHash }))) {
        throw new AppError('email_taken', 'An account with this email already exists.');
      }
      telemetry.signUp();
      return { user, tokens: await startSession(user, client, PASSWORD_AUTH_METHOD, options.dpopJkt), deviceCookie: devices.issue(options.deviceCookie, email) };
    },

    /**
     * Signs in with a password. `deviceCookie` is the device cookie the client presented, if any;
     * the answer carries its new value (a fresh device id for this account).
     */
    async login(input: { email: string; password: string }, client: ClientInfo, options: { deviceCookie?: string | undefined; dpopJkt?: string | undefined } = {}) {
      await limiter.checkAddress('ip:login', client.ipAddress);
      const email = normalizeEmail(input.email);
      // Keyed by the email as typed (normalised), whether or not it exists: no enumeration here
      // either. A device that signed in to this account before spends its own budget; everyone
      // else shares the account's. The attempt is counted here, before the hash below runs.
      const budget = { account: email, deviceId: devices.recognise(options.deviceCookie, email) };
      await limiter.beginSignIn(budget);
      const found = await users.findByEmail(email);
      // Same work and the same answer whether the email or the password is wrong, or the account
      // has no password at all (created by the application's backend, until a reset sets one).
      const storedHash = found?.passwordHash ?? null;
      const ok = (await hasher.verify(storedHash ?? (await dummyHash), input.password)) && storedHash !== null;
      if (!found || storedHash === null || !ok) {
        telemetry.signIn('failure');
        throw new AppError('invalid_credentials', 'The email or password is incorrect.');
      }
      telemetry.signIn('success');
      await limiter.signInSucceeded(budget);
      if (hasher.needsRehash(storedHash)) {
        hasher
          .hash(input.password)
          .then((h) => users.updatePasswordHash(found.id, h))
          .catch(deps.onBackgroundError ?? (() => {}));
      }
      const { passwordHash: _secret, ...user } = found;
      return { user, tokens: await startSession(user, client, PASSWORD_AUTH_METHOD, options.dpopJkt), deviceCookie: devices.issue(options.deviceCookie, email) };
    },

    /**
     * Creates a user without a password for the application's backend, or returns the one that
     * has this email (unchanged: name and externalId apply only on creation). `created` says which.
     */
    async provisionUser(input: { email: string; name?: string | undefined; externalId?: string | undefined }): Promise<{ user: User; created: boolean }> {
      const email = normalizeEmail(input.email);
      const existing = await users.findByEmail(email);
      if (!existing) {
        const user: User = { id: crypto.randomUUID(), email, name: input.name?.trim() || null, createdAtMs: clock.now(), externalId: input.externalId ?? null };
        if (await users.create({ ...user, passwordHash: null })) return { user, created: true };
      }
      // Taken meanwhile (a concurrent PUT), or the external id belongs to someone else.
      const found = existing ?? (await users.findByEmail(email));
      if (!found) throw new AppError('external_id_taken', 'Another user already has this externalId.');
      const { passwordHash: _secret, ...user } = found;
      return { user, created: false };
    },

    /**
     * A session for a user the application's backend has authenticated itself: like any sign-in
     * (limits, events, refresh, revocation), with the method it names. The route has checked the
     * service key and its scope.
     */
    async issueSession(userId: string, client: ClientInfo, authMethod: string): Promise<{ user: User; tokens: IssuedTokens }> {
      const user = await users.findById(userId);
      if (!user) throw new AppError('user_not_found', 'No user has this id.');
      return { user, tokens: await startSession(user, client, authMethod) };
    },

    /** `dpopJkt`: the key of the request's verified DPoP proof, if any (a bound session needs its own). */
    async refresh(refreshToken: unknown, client: ClientInfo, options: { dpopJkt?: string | undefined } = {}): Promise<IssuedTokens> {
      // Every attempt counts against the sender; only a verified token counts against its session
      // (beforeIssue runs after the token proved genuine), so a forged token naming someone's
      // session id cannot use up that session's budget.
      await limiter.checkAddress('ip:refresh', client.ipAddress);
      let rotated;
      try {
        rotated = await sessions.refresh(refreshToken, { beforeIssue: (sessionId) => limiter.check('session:refresh', sessionId), dpopJkt: options.dpopJkt, client });
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'rate_limited')) telemetry.refresh('failure');
        throw error;
      }
      telemetry.refresh('success');
      const access = await accessTokens.issue(rotated.userId, rotated.sessionId, { authMethod: rotated.authMethod, notAfterMs: rotated.expiresAtMs, jkt: rotated.dpopJkt });
      return { sessionId: rotated.sessionId, accessToken: access.token, refreshToken: rotated.refreshToken, expiresInSeconds: access.expiresInSeconds, dpopJkt: rotated.dpopJkt };
    },

    async logout(principal: { userId: string; sessionId: string }): Promise<void> {
      await sessions.revoke(principal.userId, principal.sessionId, 'user_logout');
    },

    /**
     * Changes the password (the current one required, the new one under the sign-up policy) and
     * ends every other session of the account (reason password_changed): whoever knew the old
     * password, or held a session, is out; the device that changed it stays signed in.
     */
    async changePassword(principal: { userId: string; sessionId: string }, input: { currentPassword: string; newPassword: string }): Promise<{ revokedCount: number }> {
      const user = await verifyCurrentPassword(principal.userId, input.currentPassword);
      checkPasswordPolicy(input.newPassword, user.email, passwordPolicy);
      await users.updatePasswordHash(user.id, await hasher.hash(input.newPassword));
      return { revokedCount: await sessions.revokeAll(user.id, 'password_changed', { exceptSessionId: principal.sessionId }) };
    },

    /** Deletes the caller's own account after checking its password (see deleteUser). */
    async deleteAccount(principal: { userId: string }, password: string): Promise<void> {
      await verifyCurrentPassword(principal.userId, password);
      await deleteUser(principal.userId);
    },

    /** Deletes any account (operators); undefined when there is no such live account. */
    deleteUser,

    /** me() from its cache alone (the fast path); undefined when the database must be read. */
    meCached(userId: string): User | undefined {
      const cached = userCache.get(userId);
      return cached && cached.expiresAtMs > clock.now() ? cached.user : undefined;
    },

    async me(principal: { userId: string }): Promise<User> {
      // A user's id, email, name and creation time never change (no endpoint edits them), so a
      // bounded, short-lived cache is safe; the session check has already run for this request, and
      // deleting an account revokes all its sessions, so a deleted user never gets this far.
      const nowMs = clock.now();
      const cached = userCache.get(principal.userId);
      if (cached && cached.expiresAtMs > nowMs) return cached.user;
      const user = await users.findById(principal.userId);
      if (user) {
        if (userCache.size >= USER_CACHE_MAX) userCache.delete(userCache.keys().next().value as string);
        userCache.set(principal.userId, { user, expiresAtMs: nowMs + USER_CACHE_TTL_MS });
      }
      // The session check passed, so the user existed a moment ago; if it is gone now, the
      // credential is no longer good.
      if (!user) throw new AppError('invalid_token', 'The account no longer exists.');
      return user;
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
