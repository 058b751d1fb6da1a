import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { authSchemas } from './auth/auth-schemas.ts';
import { authRoutes } from './auth/auth-routes.ts';
import { createAuthService } from './auth/auth-service.ts';
import { createPasswordHasher } from './auth/password-hasher.ts';
import { systemClock, type Clock } from './clock.ts';
import type { AppConfig } from './config.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './database/database.ts';
import { registerErrorHandling } from './http/error-handler.ts';
import { registerOpenApi } from './http/openapi.ts';
import { Problem } from './http/problem.ts';
import { createKyselySessionStore } from './sessions/kysely-session-store.ts';
import { RevocationFeed } from './sessions/revocation-feed.ts';
import { SessionCache } from './sessions/session-cache.ts';
import { sessionSchemas } from './sessions/session-schemas.ts';
import { sessionRoutes } from './sessions/session-routes.ts';
import { createSessionService } from './sessions/session-service.ts';
import { createAccessTokens } from './tokens/access-tokens.ts';
import { loadOrCreateKeyFile, type KeyMaterial } from './tokens/key-store.ts';
import { createRefreshTokens } from './tokens/refresh-tokens.ts';
import { createKyselyUserStore } from './users/kysely-user-store.ts';

export const VERSION = '0.1.0';

export interface AppDeps {
  clock?: Clock;
  /** An already-open database (tests share one); otherwise opened from config and closed with the app. */
  database?: DatabaseHandle;
  /** Key material; otherwise read from (or created in) `<dataDir>/keys.json`. */
  keys?: KeyMaterial;
  /** Fastify logger options (tests pass a stream to capture log lines). */
  logger?: FastifyServerOptions['logger'];
}

/** Log redaction: no token, password or cookie may reach a log line (ASVS 16.2.5). */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
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
  await migrateToLatest(database.db);

  const keys = deps.keys ?? loadOrCreateKeyFile(path.join(config.dataDir, 'keys.json'), clock.now());

  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel, redact: redactPaths },
    bodyLimit: config.bodyLimitBytes,
    // Bounded inputs everywhere: long URLs and header floods are refused by Node before routing.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    requestIdHeader: false,
    ajv: { customOptions: { allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const logError = (error: unknown) => app.log.error({ err: error }, 'background task failed');

  const sessionStore = createKyselySessionStore(database.db);
  const userStore = createKyselyUserStore(database.db);
  const cache = new SessionCache({
    maxEntries: config.sessionCacheMaxEntries,
    // Trust cached state only while the revocation feed has synced within two poll intervals (plus
    // slack for one slow query); past that, checks go to the database.
    maxStalenessMs: 2 * config.revocationPollIntervalMs + 500,
  });
  const feed = new RevocationFeed(sessionStore, cache, clock, {
    pollIntervalMs: config.revocationPollIntervalMs,
    overlapMs: 5000,
    batchLimit: 10_000,
  }, logError);
  const accessTokens = createAccessTokens(keys, { issuer: config.jwtIssuer, audience: config.jwtAudience, ttlSeconds: config.accessTokenTtlSeconds }, clock);
  const sessions = createSessionService(
    { store: sessionStore, cache, refreshTokens: createRefreshTokens(keys.refreshTokenKey), clock, onBackgroundError: logError },
    {
      policy: { idleTimeoutMs: config.sessionIdleTimeoutSeconds * 1000, absoluteLifetimeMs: config.sessionAbsoluteLifetimeSeconds * 1000 },
      lastActiveWriteIntervalMs: config.lastActiveWriteIntervalSeconds * 1000,
      refreshReuseGraceMs: 10_000,
    },
  );
  const auth = createAuthService({
    users: userStore,
    sessions,
    accessTokens,
    hasher: createPasswordHasher(config.passwordHashing),
    clock,
    passwordPolicy: { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength },
    onBackgroundError: logError,
  });

  registerErrorHandling(app);
  for (const schema of [Problem, ...authSchemas, ...sessionSchemas]) app.addSchema(schema);
  await registerOpenApi(app, { version: VERSION });

  app.get('/health', {
    schema: { operationId: 'Meta_health', tags: ['Meta'], summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/.well-known/jwks.json', {
    schema: { operationId: 'Meta_jwks', tags: ['Meta'], summary: 'Public keys that verify access tokens (JWKS)' },
  }, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(accessTokens.jwks()));

  await app.register(authRoutes, { auth, sessions, accessTokens });
  await app.register(sessionRoutes, { sessions, accessTokens });

  // First sync before serving, so the cache is trusted from the first request.
  await feed.pollOnce();
  feed.start();
  app.addHook('onClose', async () => {
    await feed.stop();
    if (ownsDatabase) await database.close();
  });

  return app;
}
