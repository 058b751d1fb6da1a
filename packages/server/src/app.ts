import path from 'node:path';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import cluster from 'node:cluster';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Redis } from 'ioredis';
import pino from 'pino';
import { sql } from 'kysely';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MemoryCounterStore, type CounterStore } from './abuse/counter-store.ts';
import { createDeviceCookies } from './abuse/device-cookies.ts';
import { createRateLimiter } from './abuse/rate-limiter.ts';
import { RedisCounterStore } from './abuse/redis-counter-store.ts';
import { createKyselyAdminKeyStore, type AdminKeyStore } from './admin/admin-key-store.ts';
import { adminRoutes } from './admin/admin-routes.ts';
import { adminSchemas } from './admin/admin-schemas.ts';
import { createKyselyEventStore } from './events/kysely-event-store.ts';
import { createKyselyWebhookCursorStore } from './events/kysely-webhook-cursor-store.ts';
import { WebhookDeliverer } from './events/webhook-deliverer.ts';
import type { EventStore } from './events/session-event.ts';
import { authSchemas } from './auth/auth-schemas.ts';
import { authFastRoutes, authRoutes } from './auth/auth-routes.ts';
import { createAuthService } from './auth/auth-service.ts';
import { createRefreshCookie } from './auth/refresh-cookie.ts';
import { createPasswordHasher } from './auth/password-hasher.ts';
import { systemClock, type Clock } from './clock.ts';
import type { AppConfig } from './config.ts';
import { migrateDatabase, openDatabase, type DatabaseHandle } from './database/database.ts';
import { registerErrorHandling, sendProblem } from './http/error-handler.ts';
import { registerValidation } from './http/validation.ts';
import { onClientError } from './http/client-error.ts';
import { apiSecurityHeaders, pageSecurityHeaders } from './http/security-headers.ts';
import { createFastPath, createHttpServer, takeFastPathReadError, type FastPath } from './http/fast-path.ts';
import { requestId } from './http/request-id.ts';
import { lazyRequestLogger } from './http/request-logger.ts';
import { createAccessLog } from './observability/access-log.ts';
import { listeningUrl, registerOpenApi } from './http/openapi.ts';
import { registerWebPage } from './http/web-page.ts';
import { createMetrics } from './observability/metrics.ts';
import { healthRoutes, redisCheck } from './observability/health-routes.ts';
import { Problem } from './http/problem.ts';
import { createKyselySessionStore } from './sessions/kysely-session-store.ts';
import { createLiveStreams, type LiveStreams } from './revocations/live-streams.ts';
import { RevocationFeed } from './sessions/revocation-feed.ts';
import { createClusterBus, createPostgresBus, createRedisBus, type RevocationBus } from './sessions/revocation-bus.ts';
import { SessionCache } from './sessions/session-cache.ts';
import { sessionSchemas } from './sessions/session-schemas.ts';
import { sessionFastRoutes, sessionRoutes } from './sessions/session-routes.ts';
import { createSessionService, type SessionService } from './sessions/session-service.ts';
import { createAccessTokens, type AccessTokens } from './tokens/access-tokens.ts';
import { createDpop } from './dpop/dpop-http.ts';
import { createDpopNonces } from './dpop/nonces.ts';
import { MemoryReplayCache, RedisReplayCache } from './dpop/replay-cache.ts';
import { loadOrCreateKeyFile, reloadKeyFileIfChanged, type KeyMaterial } from './tokens/key-store.ts';
import { AppError } from './errors.ts';
import { Jwks, type JwksDocument } from './tokens/jwks-schema.ts';
import { createRefreshTokens } from './tokens/refresh-tokens.ts';
import { createKyselyUserStore } from './users/kysely-user-store.ts';
import { issuedSessionSchemas } from './auth/issued-session-schemas.ts';
import { issuedSessionRoutes } from './auth/issued-session-routes.ts';
import { createKyselyPasswordResetStore } from './password-reset/kysely-password-reset-store.ts';
import { passwordResetRoutes } from './password-reset/password-reset-routes.ts';
import { passwordResetSchemas } from './password-reset/password-reset-schemas.ts';
import { createPasswordResetService } from './password-reset/password-reset-service.ts';
import { PasswordResetDeliverer } from './password-reset/reset-deliverer.ts';
import { createSmtpMailer } from './password-reset/reset-mail.ts';
import { createLinkSealer } from './password-reset/reset-token.ts';
import { webhookDeliveryDefaults } from './events/webhook-deliverer.ts';
import { createKyselyServiceKeyStore } from './service-keys/kysely-service-key-store.ts';
import type { ServiceKeyStore } from './service-keys/service-key-store.ts';
import type { UserStore } from './users/user-store.ts';

export const VERSION = '0.1.0';

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

/** Longest accepted request target (path + query). */
const MAX_URL_LENGTH = 2048;
/** How often each process checks the key file for a rotation. */
const KEY_RELOAD_INTERVAL_MS = 30_000;
/** Bound of the per-process DPoP replay cache: about 100 bytes each (a 2-minute window at 8,000 proofs/s). */
const DPOP_REPLAY_MAX_ENTRIES = 1_000_000;

/** Log redaction: no token, password or cookie may reach a log line (ASVS 16.2.5). */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-admin-key"]',
  'req.headers["x-service-key"]',
  '*.currentPassword',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.token',
  '*.refreshToken',
  '*.accessToken',
];

/**
 * Builds the whole service as a value: opens (or takes) the database, migrates it, wires the
 * services and routes. Never listens: server.ts does that, tests use inject() or listen on port 0.
 */
export async function buildApp(config: AppConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const clock = deps.clock ?? systemClock;
  const database = deps.database ?? openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: path.join(config.dataDir, 'sessiond.sqlite') });
  const ownsDatabase = !deps.database;
  await migrateDatabase(database);

  const keysFile = config.keysFile ?? path.join(config.dataDir, 'keys.json');
  const keys = deps.keys ?? loadOrCreateKeyFile(keysFile, clock.now());

  const app = Fastify({
    // Logs go to stdout with synchronous writes: a line is out before the next statement runs (none
    // lost in a crash), and the request log batches its lines per event-loop turn
    // (observability/access-log.ts), so there are few writes. pino's default, asynchronous writes
    // through the thread pool, cost more here: the pool's thread competes for the same core.
    logger: deps.logger ?? { level: config.logLevel, redact: redactPaths, stream: pino.destination({ dest: 1, sync: true }) },
    bodyLimit: config.bodyLimitBytes,
    // Bounded inputs everywhere: long URLs and header floods are refused by Node before routing.
    // No trailing-slash folding: `DELETE /sessions/` (an empty id) must not become `DELETE /sessions`.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    // Router-level failures (bad percent-encoding, over-long path parameters) as problem details too.
    frameworkErrors: (error, _request, reply) => {
      void sendProblem(reply, 'validation_failed', error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long.' : 'The request URL is malformed.');
    },
    // Requests too malformed to parse: a problem answer and a log line without their bytes (http/client-error.ts).
    clientErrorHandler: onClientError,
    // Every log line of a request carries its id; a caller's X-Request-Id is kept when it is sane
    // (so ids can be followed across services), otherwise `<process prefix>-<counter>` (http/request-id.ts).
    requestIdHeader: false,
    genReqId: (req) => requestId(req.headers['x-request-id']),
    // X-Forwarded-For is believed only from the configured proxies; otherwise request.ip is the
    // socket peer, so a client cannot choose the address recorded on its session.
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    // One log line per request (below, onResponse) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // A request's child logger is made only if it logs (http/request-logger.ts).
    childLoggerFactory: lazyRequestLogger,
    // The session checks' fast path goes first (http/fast-path.ts); it is built with the services
    // below, and until then (and with FAST_PATH=off) every request goes to Fastify.
    serverFactory: (handler, options) =>
      createHttpServer(options as Parameters<typeof createHttpServer>[0], (request, response) => {
        if (!fastPath?.handle(request, response, handler)) handler(request, response);
      }),
  }).withTypeProvider<TypeBoxTypeProvider>();
  let fastPath: FastPath | undefined;
  const accessLog = createAccessLog(app.log);

  const logError = (error: unknown) => app.log.error({ err: error }, 'background task failed');
  // Set once the deliverer exists (below); read by the metrics at scrape time.
  let webhookStats: (() => { lagSeconds: number; failures: number }) | undefined;
  const metrics = createMetrics({
    activeSessions: () => sessions.countAllActive(),
    webhooks: () => webhookStats?.(),
    redisUp: config.redisUrl ? async () => redis !== undefined && (await redisCheck(redis)) === 'ok' : undefined,
    passwordResets: () => ({ delivered: resetDeliverer.deliveredTotal, failures: resetDeliverer.failuresTotal }),
  });
  const telemetry = metrics.telemetry;

  // Push channels for revocations made here (see sessions/revocation-bus.ts); the feed below is
  // what bounds staleness when they fail.
  const buses: RevocationBus[] = [];
  if (database.dialect === 'postgres' && config.databaseUrl && config.pgNotify) {
    buses.push(createPostgresBus(config.databaseUrl, (channel, payload) => sql`select pg_notify(${channel}, ${payload})`.execute(database.db)));
  }
  if (config.redisUrl) buses.push(createRedisBus(config.redisUrl));
  if (cluster.isWorker) buses.push(createClusterBus());
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250 })
    : undefined;
  redis?.on('error', () => {}); // each failed command reports itself (and falls back)

  const sessionStore = createKyselySessionStore(database.db, { dialect: database.dialect });
  const userStore = createKyselyUserStore(database.db);
  const adminKeys = createKyselyAdminKeyStore(database.db);
  const serviceKeys = createKyselyServiceKeyStore(database.db);
  const resetStore = createKyselyPasswordResetStore(database.db);
  const eventStore = createKyselyEventStore(database.db, { dialect: database.dialect });
  const cache = new SessionCache({
    maxEntries: config.sessionCacheMaxEntries,
    // Trust cached state only while the revocation feed has synced within two poll intervals (plus
    // slack for one slow query); past that, checks go to the database.
    maxStalenessMs: 2 * config.revocationPollIntervalMs + 500,
  });
  const feed = new RevocationFeed(eventStore, cache, clock, {
    pollIntervalMs: config.revocationPollIntervalMs,
    pageSize: 1000,
    batchLimit: 10_000,
  }, logError);
  // The live streams (revocations for services, device events): revocations/live-streams.ts.
  const live: LiveStreams = createLiveStreams({ db: database.db, events: eventStore, clock, config, onError: logError });
  const accessTokens = createAccessTokens(keys, { issuer: config.jwtIssuer, audience: config.jwtAudience, ttlSeconds: config.accessTokenTtlSeconds }, clock);
  const sessions = createSessionService(
    {
      store: sessionStore,
      cache,
      refreshTokens: createRefreshTokens(keys.refreshTokenKey),
      clock,
      onBackgroundError: logError,
      telemetry,
      onRevoked: (ids) => {
        for (const bus of buses) bus.publish(ids);
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
  // Shared counters in Redis behind a breaker (abuse/redis-counter-store.ts); memory otherwise.
  const redisCounters = redis && !deps.counters
    ? new RedisCounterStore(redis, new MemoryCounterStore(() => clock.now()), {
        now: () => clock.now(),
        onError: (error) => {
          telemetry.backendError('redis');
          app.log.warn({ err: error }, 'rate-limit counters fall back to process memory until Redis answers');
        },
      })
    : undefined;
  const hasher = createPasswordHasher(config.passwordHashing);
  const limiter = createRateLimiter(deps.counters ?? redisCounters ?? new MemoryCounterStore(() => clock.now()), config.rateLimit, () => clock.now());
  const passwordPolicy = { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength };
  const auth = createAuthService({
    users: userStore,
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
    replay: redis
      ? new RedisReplayCache(redis, localProofs, (error) => {
          telemetry.backendError('redis');
          app.log.warn({ err: error }, 'DPoP replay check falls back to process memory until Redis answers');
        })
      : localProofs,
    nonces: createDpopNonces({ secret: keys.refreshTokenKey, slotMs: config.dpop.iatWindowSeconds * 1000, now: () => clock.now() }),
    clock,
  }, { ...config.dpop, publicUrl: config.publicUrl });

  registerErrorHandling(app, { onDatabaseUnavailable: () => telemetry.backendError('database') });
  app.addHook('onResponse', function accessLogLine(request, reply, done) {
    accessLog({ reqId: request.id, method: request.method, url: request.url, remoteAddress: request.ip, statusCode: reply.statusCode, responseTimeMs: reply.elapsedTime });
    done();
  });
  // Security headers on every response, errors included: the API's set (http/security-headers.ts);
  // the HTML documents (the devices page, /docs) replace it with helmet's set, computed once. Their
  // CSP allows only same-origin scripts and styles, which the API reference and the devices page use.
  const pageHeaders = pageSecurityHeaders({
    contentSecurityPolicy: {
      // No upgrade-insecure-requests: over plain http on any host but localhost it makes the browser
      // fetch the page's own scripts over https, which fails (a blank page). Behind TLS it is moot.
      directives: { 'script-src': ["'self'"], 'style-src': ["'self'", "'unsafe-inline'"], 'img-src': ["'self'", 'data:'], 'upgrade-insecure-requests': null },
    },
  });
  // One synchronous hook for what every request gets (a promise per hook costs a session check
  // measurably, docs/BENCHMARKS.md): its id, the security headers, the URL bound.
  app.addHook('onRequest', function requestBasics(request, reply, done) {
    reply.header('x-request-id', request.id);
    reply.headers(apiSecurityHeaders);
    done(request.url.length > MAX_URL_LENGTH ? new AppError('uri_too_long', `Request targets are limited to ${MAX_URL_LENGTH} characters.`) : undefined);
  });
  // CORS is off unless origins are configured; credentials are never needed (bearer tokens). A
  // cross-origin script can read only the headers exposed here: DPoP clients need DPoP-Nonce, the
  // WWW-Authenticate challenge and Date (a refused proof's server time; RFC 9449 §7.1, §8). CORS
  // headers go only to requests from a configured origin, so an answer to a request without Origin
  // (the only kind the fast path serves) carries the same headers on both paths.
  if (config.corsOrigins.length > 0) {
    const allowed = new Set(config.corsOrigins);
    await app.register(cors, {
      origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin) ? origin : false),
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'dpop'],
      exposedHeaders: ['dpop-nonce', 'www-authenticate', 'date', 'retry-after', 'x-request-id'],
      maxAge: 600,
    });
  }
  const sharedSchemas = [Problem, ...authSchemas, ...sessionSchemas, ...adminSchemas, ...issuedSessionSchemas, ...passwordResetSchemas, ...live.schemas];
  for (const schema of sharedSchemas) app.addSchema(schema);
  registerValidation(app, sharedSchemas);
  // Fastify parses text/plain bodies by default; the API speaks JSON only, so that is a 415.
  app.removeContentTypeParser('text/plain');
  await registerOpenApi(app, { version: VERSION, pageHeaders, serverUrl: config.publicUrl ?? listeningUrl(config.host, config.port) });

  await app.register(healthRoutes, { db: database.db, redis });
  metrics.register(app, { token: config.metricsToken });

  app.get('/.well-known/jwks.json', {
    config: { public: true },
    schema: {
      operationId: 'Meta_jwks',
      tags: ['Meta'],
      summary: 'Public keys that verify access tokens (JWKS)',
      description: 'The keys that currently verify access tokens (RFC 7517), newest first; a retired key leaves the set. Cacheable for 5 minutes.',
      response: { 200: { description: 'The JSON Web Key Set', ...Jwks } },
    },
    // Every key carries kid, alg and use (tokens/access-tokens.ts adds them to the exported JWK).
  }, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(accessTokens.jwks() as JwksDocument));
  await registerWebPage(app, { pageHeaders }); // the devices page at / (packages/web)

  // Without the parsing hook: cookies are parsed by the routes that read one (http/cookies.ts).
  await app.register(cookie, { hook: false });
  const refreshCookie = createRefreshCookie({ publicUrl: config.publicUrl, maxAgeSeconds: config.sessionAbsoluteLifetimeSeconds });
  await app.register(authRoutes, { auth, sessions, accessTokens, dpop, refreshCookie });
  await app.register(sessionRoutes, { sessions, accessTokens, dpop, refreshCookie });
  await app.register(adminRoutes, { keys: adminKeys, sessions, users: userStore, events: eventStore, deleteUser: auth.deleteUser });
  await app.register(issuedSessionRoutes, { auth, sessions, serviceKeys });
  const resets = createPasswordResetService({ store: resetStore, users: userStore, sessions, hasher, limiter, clock, passwordPolicy });
  await app.register(passwordResetRoutes, { resets });
  await app.register(live.routes, { sessions, accessTokens, dpop, serviceKeys });

  // Not awaited: Redis is optional, and a Redis that refuses or hangs mid-handshake must not hold up
  // the start. ioredis keeps reconnecting in the background; until then its commands fail at once
  // (no offline queue) and the callers fall back.
  redis?.connect().catch((error: unknown) => app.log.warn({ err: error }, 'Redis unavailable at start; retrying in the background'));
  for (const bus of buses) {
    await bus.start({
      onRevoked: (ids) => {
        cache.markRevoked(ids);
        live.poke();
      },
      // Messages may have been lost while disconnected: forget everything cached and re-sync.
      onGap: () => {
        cache.clear();
        void feed.pollOnce();
      },
      onError: (error) => {
        telemetry.backendError(bus.name === 'redis' ? 'redis' : 'database');
        app.log.warn({ err: error, bus: bus.name }, 'revocation channel error');
      },
    });
  }

  // First sync before serving, so the cache is trusted from the first request.
  await feed.pollOnce();
  feed.start();

  // Webhooks: delivered in the background from the session_events outbox (events/webhook-deliverer.ts).
  const webhooks = config.webhooks.urls.length > 0
    ? new WebhookDeliverer(
        {
          events: eventStore,
          cursors: createKyselyWebhookCursorStore(database.db),
          clock,
          log: app.log,
          // A reset event's link is stored sealed and sent opened (password-reset/reset-token.ts).
          revealData: (event) => {
            if (event.type !== 'password_reset.requested' || typeof event.data.sealedLink !== 'string') return event.data;
            const { sealedLink, ...rest } = event.data;
            return { ...rest, link: linkSealer.open(sealedLink) ?? null };
          },
        },
        { endpoints: config.webhooks.urls, secret: config.webhooks.secret ?? '', pollIntervalMs: config.webhooks.pollIntervalMs, timeoutMs: config.webhooks.timeoutMs, userAgent: `sessiond/${VERSION}` },
      )
    : undefined;
  await webhooks?.init();
  webhooks?.start();
  if (webhooks) webhookStats = () => ({ lagSeconds: webhooks.lagMs / 1000, failures: webhooks.failuresTotal });

  // Password-reset links: delivered in the background from password_reset_requests, by mail
  // (SMTP_URL) or, without it, as password_reset.requested webhook events.
  const linkSealer = createLinkSealer(keys.refreshTokenKey);
  const resetDeliverer = new PasswordResetDeliverer(
    {
      store: resetStore,
      users: userStore,
      clock,
      log: app.log,
      mailer: config.mail.smtpUrl && config.mail.from ? createSmtpMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, timeoutMs: config.mail.timeoutMs }) : undefined,
      sealer: linkSealer,
    },
    {
      publicUrl: config.publicUrl,
      tokenTtlMs: config.passwordResetTokenTtlSeconds * 1000,
      pollIntervalMs: config.mail.pollIntervalMs,
      batchSize: 20,
      leaseMs: Math.max(30_000, 3 * config.mail.timeoutMs),
      retry: webhookDeliveryDefaults.retry,
      webhooks: webhooks !== undefined,
    },
  );
  resetDeliverer.start();

  const timers: NodeJS.Timeout[] = [];
  let keysMtimeMs = 0;
  const reloadKeys = () => {
    if (deps.keys) return false;
    const changed = reloadKeyFileIfChanged(keysFile, keysMtimeMs);
    if (!changed) return false;
    accessTokens.setKeys(changed.material);
    keysMtimeMs = changed.mtimeMs;
    return true;
  };
  if (!deps.keys) {
    reloadKeys();
    // Pick up `sessiond keys rotate` without a restart.
    timers.push(setInterval(() => {
      try {
        if (reloadKeys()) app.log.info('signing keys reloaded');
      } catch (error) {
        logError(error);
      }
    }, KEY_RELOAD_INTERVAL_MS));
  }
  if (config.fastPath) {
    fastPath = createFastPath({
      accessTokens,
      sessions,
      routes: [...sessionFastRoutes(sessions), ...authFastRoutes(auth)],
      securityHeaders: apiSecurityHeaders,
      accessLog,
      recordRequest: metrics.recordRequest,
      trustProxy: config.trustProxy,
      cors: config.corsOrigins.length > 0,
      hasRoute: (url) => app.hasRoute({ method: 'GET', url }),
    });
    app.addHook('preHandler', function fastPathReadError(request, _reply, done) {
      const readError = takeFastPathReadError(request.raw);
      done(readError === undefined ? undefined : (readError as Error));
    });
    // From the start of close(), Fastify answers 503 on kept-alive connections; so must every request.
    const closing = fastPath;
    app.addHook('preClose', (done) => {
      closing.stop();
      done();
    });
  }
  app.decorate('sessiond', { sessions, users: userStore, adminKeys, serviceKeys, events: eventStore, accessTokens, database, reloadKeys, webhooks, fastPath, passwordResets: resetDeliverer, liveStreams: live });
  if (config.purgeIntervalSeconds > 0) {
    let sweeping = false;
    timers.push(setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      sessions
        .sweep({ retentionMs: config.sessionHistoryRetentionSeconds * 1000, batchSize: 1000, maxBatches: 10 })
        .catch(logError)
        .finally(() => {
          sweeping = false;
        });
    }, config.purgeIntervalSeconds * 1000));
  }
  for (const timer of timers) timer.unref();

  app.addHook('onClose', async () => {
    // First, while the database is open: a delivery in flight finishes and records its cursor.
    await webhooks?.stop();
    await resetDeliverer.stop();
    for (const timer of timers) clearInterval(timer);
    await feed.stop();
    for (const bus of buses) await bus.close();
    redisCounters?.close();
    redis?.disconnect();
    if (ownsDatabase) await database.close();
    accessLog.flush();
  });

  return app;
}
