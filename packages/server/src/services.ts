import fp from 'fastify-plugin';
import { createDeviceCookies } from './abuse/device-cookies.ts';
import { createAuthService, type AuthService } from './auth/auth-service.ts';
import { createPasswordHasher } from './auth/password-hasher.ts';
import { createDpop, type Dpop } from './dpop/dpop-http.ts';
import { createDpopNonces } from './dpop/nonces.ts';
import { MemoryReplayCache, RedisReplayCache } from './dpop/replay-cache.ts';
import { backgroundErrorLogger } from './observability/background-errors.ts';
import { createPasswordResetService, type PasswordResetService } from './password-reset/password-reset-service.ts';
import { createLinkSealer, type LinkSealer } from './password-reset/reset-token.ts';
import { createSessionService, type SessionService } from './sessions/session-service.ts';
import { createRefreshTokens } from './tokens/refresh-tokens.ts';

/** Bound of the per-process DPoP replay cache: about 100 bytes each (a 2-minute window at 8,000 proofs/s). */
const DPOP_REPLAY_MAX_ENTRIES = 1_000_000;

/** The domain services: they speak domain objects and throw AppErrors; the routes put them on HTTP. */
export interface DomainServices {
  sessions: SessionService;
  auth: AuthService;
  dpop: Dpop;
  resets: PasswordResetService;
  /** Seals reset links at rest and opens them for delivery (password-reset/reset-token.ts). */
  linkSealer: LinkSealer;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: DomainServices;
  }
}

/** The services, wired from the stores, keys, limiter, cache and push channels registered before. */
export const servicesPlugin = fp(
  async (app) => {
    const { config, clock, stores, limiter, liveStreams: live, revocationSync } = app;
    const { keys, accessTokens } = app.tokens;
    const telemetry = app.metrics.telemetry;
    const logError = backgroundErrorLogger(app.log);
    const sessions = createSessionService(
      {
        store: stores.sessions,
        cache: revocationSync.cache,
        refreshTokens: createRefreshTokens(keys.refreshTokenKey),
        clock,
        onBackgroundError: logError,
        telemetry,
        onRevoked: (ids) => {
          revocationSync.publish(ids);
          live.poke();
        },
        onCreated: () => live.poke(),
      },
      {
        policy: { idleTimeoutMs: config.sessionIdleTimeoutSeconds * 1000, absoluteLifetimeMs: config.sessionAbsoluteLifetimeSeconds * 1000 },
        lastActiveWriteIntervalMs: config.lastActiveWriteIntervalSeconds * 1000,
        refreshReuseGraceMs: config.refreshReuseGraceSeconds * 1000,
        sessionLimit: { maxActive: config.maxSessionsPerUser, mode: config.sessionLimitMode },
      },
    );
    app.metrics.provide({ activeSessions: () => sessions.countAllActive() });
    const hasher = createPasswordHasher(config.passwordHashing);
    const passwordPolicy = { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength };
    const auth = createAuthService({
      users: stores.users,
      sessions,
      accessTokens,
      hasher,
      limiter,
      devices: createDeviceCookies(keys.refreshTokenKey),
      clock,
      passwordPolicy,
      onBackgroundError: logError,
      telemetry,
    });

    // Device-bound sessions (dpop/): proofs' jti remembered per process, and through Redis across
    // instances when configured; nonces derived from the shared key file.
    const localProofs = new MemoryReplayCache({ maxEntries: DPOP_REPLAY_MAX_ENTRIES, now: () => clock.now() });
    const dpop = createDpop({
      replay: app.redis
        ? new RedisReplayCache(app.redis, localProofs, (error) => {
            telemetry.backendError('redis');
            app.log.warn({ err: error }, 'DPoP replay check falls back to process memory until Redis answers');
          })
        : localProofs,
      nonces: createDpopNonces({ secret: keys.refreshTokenKey, slotMs: config.dpop.iatWindowSeconds * 1000, now: () => clock.now() }),
      clock,
    }, { ...config.dpop, publicUrl: config.publicUrl });

    const resets = createPasswordResetService({ store: stores.passwordResets, users: stores.users, sessions, hasher, limiter, clock, passwordPolicy });
    app.decorate('services', { sessions, auth, dpop, resets, linkSealer: createLinkSealer(keys.refreshTokenKey) } satisfies DomainServices);
  },
  {
    name: 'sessiond-services',
    dependencies: ['sessiond-metrics', 'sessiond-stores', 'sessiond-tokens', 'sessiond-redis', 'sessiond-rate-limit', 'sessiond-live-streams', 'sessiond-revocation-sync'],
  },
);
