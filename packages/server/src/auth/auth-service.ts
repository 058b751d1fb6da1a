import crypto from 'node:crypto';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { SessionService } from '../sessions/session-service.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import { normalizeEmail, type User } from '../users/user.ts';
import type { UserStore } from '../users/user-store.ts';
import type { RateLimiter } from '../abuse/rate-limiter.ts';
import type { DeviceCookies } from '../abuse/device-cookies.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { isCommonPassword } from './common-passwords.ts';
import { noopTelemetry, type Telemetry } from '../observability/telemetry.ts';

export interface ClientInfo {
  ipAddress: string | null;
  userAgent: string | null;
}

export interface IssuedTokens {
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  expiresInSeconds: number;
}

export interface AuthServiceDeps {
  users: UserStore;
  sessions: SessionService;
  accessTokens: AccessTokens;
  hasher: PasswordHasher;
  limiter: RateLimiter;
  devices: DeviceCookies;
  clock: Clock;
  passwordPolicy: { minLength: number; maxLength: number };
  onBackgroundError?: (error: unknown) => void;
  telemetry?: Telemetry;
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

  function checkPasswordPolicy(password: string, email: string): void {
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

  async function startSession(user: User, client: ClientInfo): Promise<IssuedTokens> {
    const { session, refreshToken, expiresAtMs } = await sessions.create(user.id, client);
    const access = await accessTokens.issue(user.id, session.id, { notAfterMs: expiresAtMs });
    return { sessionId: session.id, accessToken: access.token, refreshToken, expiresInSeconds: access.expiresInSeconds };
  }

  return {
    /** Creates the account and its first session; `deviceCookie` is the new value of the device cookie (abuse/device-cookies.ts). */
    async register(input: { email: string; password: string; name?: string | undefined }, client: ClientInfo, options: { deviceCookie?: string | undefined } = {}) {
      await limiter.checkAddress('ip:register', client.ipAddress);
      const email = normalizeEmail(input.email);
      checkPasswordPolicy(input.password, email);
      const user: User = { id: crypto.randomUUID(), email, name: input.name?.trim() || null, createdAtMs: clock.now() };
      const passwordHash = await hasher.hash(input.password);
      if (!(await users.create({ ...user, passwordHash }))) {
        throw new AppError('email_taken', 'An account with this email already exists.');
      }
      telemetry.signUp();
      return { user, tokens: await startSession(user, client), deviceCookie: devices.issue(options.deviceCookie, email) };
    },

    /**
     * Signs in with a password. `deviceCookie` is the device cookie the client presented, if any;
     * the answer carries its new value (a fresh device id for this account).
     */
    async login(input: { email: string; password: string }, client: ClientInfo, options: { deviceCookie?: string | undefined } = {}) {
      await limiter.checkAddress('ip:login', client.ipAddress);
      const email = normalizeEmail(input.email);
      // Keyed by the email as typed (normalised), whether or not it exists: no enumeration here
      // either. A device that signed in to this account before spends its own budget; everyone
      // else shares the account's. The attempt is counted here, before the hash below runs.
      const budget = { account: email, deviceId: devices.recognise(options.deviceCookie, email) };
      await limiter.beginSignIn(budget);
      const found = await users.findByEmail(email);
      // Same work and the same answer whether the email or the password is wrong.
      const ok = await hasher.verify(found?.passwordHash ?? (await dummyHash), input.password);
      if (!found || !ok) {
        telemetry.signIn('failure');
        throw new AppError('invalid_credentials', 'The email or password is incorrect.');
      }
      telemetry.signIn('success');
      await limiter.signInSucceeded(budget);
      if (hasher.needsRehash(found.passwordHash)) {
        hasher
          .hash(input.password)
          .then((h) => users.updatePasswordHash(found.id, h))
          .catch(deps.onBackgroundError ?? (() => {}));
      }
      const { passwordHash: _secret, ...user } = found;
      return { user, tokens: await startSession(user, client), deviceCookie: devices.issue(options.deviceCookie, email) };
    },

    async refresh(refreshToken: unknown, client: ClientInfo): Promise<IssuedTokens> {
      // Every attempt counts against the sender; only a verified token counts against its session
      // (beforeIssue runs after the token proved genuine), so a forged token naming someone's
      // session id cannot use up that session's budget.
      await limiter.checkAddress('ip:refresh', client.ipAddress);
      let rotated;
      try {
        rotated = await sessions.refresh(refreshToken, { beforeIssue: (sessionId) => limiter.check('session:refresh', sessionId) });
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'rate_limited')) telemetry.refresh('failure');
        throw error;
      }
      telemetry.refresh('success');
      const access = await accessTokens.issue(rotated.userId, rotated.sessionId, { notAfterMs: rotated.expiresAtMs });
      return { sessionId: rotated.sessionId, accessToken: access.token, refreshToken: rotated.refreshToken, expiresInSeconds: access.expiresInSeconds };
    },

    async logout(principal: { userId: string; sessionId: string }): Promise<void> {
      await sessions.revoke(principal.userId, principal.sessionId, 'user_logout');
    },

    /** me() from its cache alone (the fast path); undefined when the database must be read. */
    meCached(userId: string): User | undefined {
      const cached = userCache.get(userId);
      return cached && cached.expiresAtMs > clock.now() ? cached.user : undefined;
    },

    async me(principal: { userId: string }): Promise<User> {
      // A user's id, email, name and creation time never change (no endpoint edits them), so a
      // bounded, short-lived cache is safe; the session check has already run for this request.
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
