import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CounterStore } from './abuse/counter-store.ts';
import { rateLimitPlugin } from './abuse/rate-limit-plugin.ts';
import type { AdminKeyStore } from './admin/admin-key-store.ts';
import { systemClock, type Clock } from './clock.ts';
import type { AppConfig } from './config.ts';
import { databasePlugin } from './database/database-plugin.ts';
import type { DatabaseHandle } from './database/database.ts';
import { redisPlugin } from './database/redis-plugin.ts';
import type { EventStore } from './events/session-event.ts';
import type { WebhookDeliverer } from './events/webhook-deliverer.ts';
import { webhookPlugin } from './events/webhook-plugin.ts';
import { fastPathPlugin } from './http/fast-path-plugin.ts';
import type { FastPath } from './http/fast-path.ts';
import { fastifyOptions, type FastPathSlot } from './http/fastify-options.ts';
import { requestHooks } from './http/request-hooks.ts';
import { routesPlugin } from './http/routes.ts';
import { metricsPlugin } from './observability/metrics.ts';
import { resetDeliveryPlugin } from './password-reset/reset-delivery-plugin.ts';
import type { PasswordResetDeliverer } from './password-reset/reset-deliverer.ts';
import { liveStreamsPlugin, type LiveStreams } from './revocations/live-streams.ts';
import { servicesPlugin } from './services.ts';
import type { ServiceKeyStore } from './service-keys/service-key-store.ts';
import { revocationSyncPlugin } from './sessions/revocation-sync.ts';
import type { SessionService } from './sessions/session-service.ts';
import { sweeperPlugin } from './sessions/sweeper.ts';
import { storesPlugin } from './stores.ts';
import type { AccessTokens } from './tokens/access-tokens.ts';
import type { KeyMaterial } from './tokens/key-store.ts';
import { tokensPlugin } from './tokens/tokens-plugin.ts';
import type { UserStore } from './users/user-store.ts';

export { VERSION } from './version.ts';
export { redactPaths } from './http/fastify-options.ts';

/** The wired services, exposed on the app for the CLI and for tests that drive housekeeping. */
export interface Services {
  sessions: SessionService;
  users: UserStore;
  adminKeys: AdminKeyStore;
  /** Keys of the application's backends (src/service-keys). */
  serviceKeys: ServiceKeyStore;
  events: EventStore;
  accessTokens: AccessTokens;
  database: DatabaseHandle;
  /** Re-reads the key file now (normally polled every 30 s). Returns whether it changed. */
  reloadKeys(): boolean;
  /** Webhook delivery from the outbox; undefined without WEBHOOK_URLS. Tests run rounds with tick(). */
  webhooks: WebhookDeliverer | undefined;
  /** The session checks' fast path (http/fast-path.ts); undefined with FAST_PATH=off. */
  fastPath: FastPath | undefined;
  /** Password-reset link delivery in the background. Tests run rounds with tick(). */
  passwordResets: PasswordResetDeliverer;
  /** The revocation and device event streams (revocations/live-streams.ts). */
  liveStreams: LiveStreams;
}

declare module 'fastify' {
  interface FastifyInstance {
    sessiond: Services;
    config: AppConfig;
    clock: Clock;
  }
}

export interface AppDeps {
  clock?: Clock;
  /** An already-open database (tests share one); otherwise opened from config and closed with the app. */
  database?: DatabaseHandle;
  /** Key material; otherwise read from (or created in) `<dataDir>/keys.json`. */
  keys?: KeyMaterial;
  /** Fastify logger options (tests pass a stream to capture log lines). */
  logger?: FastifyServerOptions['logger'];
  /** Rate-limit counters; in-memory by default (one process). */
  counters?: CounterStore;
}

/**
 * Builds the whole service as a value: the table of contents of its units. Each is a plugin that
 * starts itself and registers its own close beside its creation, and declares the units it needs
 * (fastify-plugin checks they came first). Fastify runs onClose hooks in reverse order, so closing
 * stops the background work first and the database (then the access log) last. Never listens:
 * server.ts does that, tests use inject() or listen on port 0.
 */
export async function buildApp(config: AppConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const fastPathSlot: FastPathSlot = {};
  const app = Fastify(fastifyOptions(config, deps.logger, fastPathSlot)).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('config', config);
  app.decorate('clock', deps.clock ?? systemClock);

  await app.register(metricsPlugin); //                  observability/metrics.ts
  await app.register(requestHooks); //                   errors, request id, access log, security headers
  await app.register(databasePlugin, { database: deps.database }); // opened (or given), migrated
  await app.register(storesPlugin); //                   stores.ts
  await app.register(tokensPlugin, { keys: deps.keys }); // signing keys, access tokens, key reloader
  await app.register(redisPlugin); //                    optional; connects in the background
  await app.register(rateLimitPlugin, { counters: deps.counters });
  await app.register(liveStreamsPlugin); //              revocations/live-streams.ts
  await app.register(revocationSyncPlugin); //           session cache, push channels, event feed
  await app.register(servicesPlugin); //                 sessions, auth, DPoP, password resets
  await app.register(routesPlugin); //                   http/routes.ts: the whole HTTP API
  await app.register(webhookPlugin); //                  events/webhook-plugin.ts
  await app.register(resetDeliveryPlugin); //            password-reset links by mail or webhook
  await app.register(sweeperPlugin); //                  expiry and retention housekeeping
  await app.register(fastPathPlugin, { slot: fastPathSlot });

  const { stores, tokens, services } = app;
  app.decorate('sessiond', {
    sessions: services.sessions,
    users: stores.users,
    adminKeys: stores.adminKeys,
    serviceKeys: stores.serviceKeys,
    events: stores.events,
    accessTokens: tokens.accessTokens,
    database: app.database,
    reloadKeys: tokens.reloadKeys,
    webhooks: app.webhooks,
    fastPath: fastPathSlot.current,
    passwordResets: app.passwordResetDeliverer,
    liveStreams: app.liveStreams,
  } satisfies Services);
  return app;
}
