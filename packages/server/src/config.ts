import path from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The only reader of process.env. Every setting is declared once here: the TypeBox schema gives its
 * type, its default and its validation; the README's configuration table mirrors this list.
 */
const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Seconds = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });

export const EnvSchema = Type.Object({
  PORT: Type.Optional(Port),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  WORKERS: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  PG_NOTIFY: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')])),
  FAST_PATH: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')])),
  LOG_LEVEL: Type.Optional(Type.Union([
    Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'),
    Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent'),
  ])),
  ACCESS_TOKEN_TTL_SECONDS: Type.Optional(Seconds(30, 86_400)),
  SESSION_IDLE_TIMEOUT_SECONDS: Type.Optional(Seconds(60, 31_536_000)),
  SESSION_ABSOLUTE_LIFETIME_SECONDS: Type.Optional(Seconds(60, 31_536_000)),
  JWT_ISSUER: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  SESSION_CACHE_MAX_ENTRIES: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
  REVOCATION_POLL_INTERVAL_MS: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000 })),
  REFRESH_REUSE_GRACE_SECONDS: Type.Optional(Seconds(0, 60)),
  MAX_SESSIONS_PER_USER: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  SESSION_LIMIT_MODE: Type.Optional(Type.Union([Type.Literal('refuse'), Type.Literal('evict')])),
  SESSION_HISTORY_RETENTION_SECONDS: Type.Optional(Seconds(0, 31_536_000)),
  PURGE_INTERVAL_SECONDS: Type.Optional(Seconds(0, 86_400)),
  KEYS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  TRUST_PROXY: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  CORS_ORIGINS: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
  RATE_LIMIT: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')])),
  RATE_LIMIT_PER_IP_PER_MINUTE: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  LOGIN_FAILURES_BEFORE_DELAY: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  RATE_LIMIT_IPV6_PREFIX: Type.Optional(Type.Integer({ minimum: 1, maximum: 128 })),
  WEBHOOK_URLS: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
  WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 32, maxLength: 1000 })),
}, { additionalProperties: true });

export type Env = Static<typeof EnvSchema>;

export interface PasswordHashingConfig {
  /** argon2id memory cost in KiB. OWASP: 19 MiB with 2 iterations and parallelism 1. */
  memoryCostKib: number;
  timeCost: number;
  parallelism: number;
}

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Unset: embedded SQLite in dataDir. */
  databaseUrl: string | undefined;
  /** Redis for cross-instance revocation push and shared rate-limit counters; optional. */
  redisUrl: string | undefined;
  /** Worker processes of `npm start` (node:cluster); 1 = no cluster. */
  workers: number;
  /** Push revocations through PostgreSQL LISTEN/NOTIFY (off e.g. behind a transaction-mode pooler). */
  pgNotify: boolean;
  /** Answer session checks that memory can settle before Fastify's pipeline (http/fast-path.ts). */
  fastPath: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  accessTokenTtlSeconds: number;
  sessionIdleTimeoutSeconds: number;
  sessionAbsoluteLifetimeSeconds: number;
  jwtIssuer: string;
  jwtAudience: string;
  /** Upper bound of the per-process session-state cache; 0 turns the cache off. */
  sessionCacheMaxEntries: number;
  /** How often each process reads revocations made by other processes (bounds cross-process staleness). */
  revocationPollIntervalMs: number;
  /** Throttle for lastActiveAt writes: at most one write per session per this many seconds. */
  lastActiveWriteIntervalSeconds: number;
  passwordMinLength: number;
  /** Upper bound on password length, so one request cannot make hashing arbitrarily expensive. */
  passwordMaxLength: number;
  passwordHashing: PasswordHashingConfig;
  /** Largest accepted request body in bytes. */
  bodyLimitBytes: number;
  /** Replaying the previous refresh token within this window returns the same successor. */
  refreshReuseGraceSeconds: number;
  /** Concurrent active sessions per user; 0 = unlimited. */
  maxSessionsPerUser: number;
  /** At the limit: refuse the new sign-in (409), or evict the least recently active session. */
  sessionLimitMode: 'refuse' | 'evict';
  /** Ended (revoked or expired) sessions are kept this long for history, then purged. */
  sessionHistoryRetentionSeconds: number;
  /** How often the background sweeper marks expired sessions and purges old ones; 0 = never. */
  purgeIntervalSeconds: number;
  /** Key file; default <dataDir>/keys.json. */
  keysFile: string | undefined;
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDRs); empty = none. */
  trustProxy: string[];
  /** Origins allowed by CORS; empty = CORS off. */
  corsOrigins: string[];
  rateLimit: {
    enabled: boolean;
    /** Sign-in, sign-up and refresh requests per client IP per minute. */
    perIpPerMinute: number;
    /** Failed sign-ins for one account before each further attempt must wait (doubling, capped). */
    failuresBeforeDelay: number;
    /** Cap of that wait. Known devices have budgets of their own (abuse/device-cookies.ts). */
    maxDelaySeconds: number;
    /** IPv6 clients are rate-limited per network of this prefix length (a host often has a whole /64). */
    ipv6PrefixLength: number;
  };
  /** Each session event POSTed, signed, to every URL (events/webhook-deliverer.ts); off without URLs. */
  webhooks: {
    urls: string[];
    /** HMAC-SHA256 key of the signatures, at least 32 characters; required when there are URLs. */
    secret: string | undefined;
    /** How often each process looks for events to deliver; 0 = only when tick() is called (tests). */
    pollIntervalMs: number;
    /** One delivery attempt is abandoned (and retried later) after this long. */
    timeoutMs: number;
  };
}

export const defaultConfig: AppConfig = {
  port: 3000,
  host: '127.0.0.1',
  dataDir: './data',
  databaseUrl: undefined,
  redisUrl: undefined,
  workers: 1,
  pgNotify: true,
  fastPath: true,
  logLevel: 'info',
  accessTokenTtlSeconds: 15 * 60,
  sessionIdleTimeoutSeconds: 7 * 24 * 3600,
  sessionAbsoluteLifetimeSeconds: 30 * 24 * 3600,
  jwtIssuer: 'sessiond',
  jwtAudience: 'sessiond',
  sessionCacheMaxEntries: 100_000,
  revocationPollIntervalMs: 1000,
  lastActiveWriteIntervalSeconds: 60,
  passwordMinLength: 8,
  passwordMaxLength: 128,
  passwordHashing: { memoryCostKib: 19_456, timeCost: 2, parallelism: 1 },
  bodyLimitBytes: 16 * 1024,
  refreshReuseGraceSeconds: 10,
  maxSessionsPerUser: 0,
  sessionLimitMode: 'evict',
  sessionHistoryRetentionSeconds: 30 * 24 * 3600,
  purgeIntervalSeconds: 600,
  keysFile: undefined,
  trustProxy: [],
  corsOrigins: [],
  rateLimit: { enabled: true, perIpPerMinute: 60, failuresBeforeDelay: 5, maxDelaySeconds: 60, ipv6PrefixLength: 64 },
  webhooks: { urls: [], secret: undefined, pollIntervalMs: 1000, timeoutMs: 5000 },
};

const list = (value: string | undefined) => (value ?? '').split(',').map((x) => x.trim()).filter(Boolean);

export class ConfigError extends Error {}

/** A URL's password never appears in a message: postgres://user:secret@host -> postgres://user:***@host. */
const maskCredentials = (value: string) => value.replace(/\/\/([^:@/]*):([^@/]*)@/, '//$1:***@');

/** Variables whose values never appear in an error message. */
const secretVariables = new Set(['WEBHOOK_SECRET']);

/** Why one WEBHOOK_URLS entry is unusable, or undefined. */
function webhookUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'is not an http(s) URL';
  // fetch refuses them, and the signature already authenticates the sender.
  if (url.username || url.password) return 'must not contain credentials';
  return undefined;
}

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Only our variables, and empty strings count as unset (a common shell habit: `FOO= npm start`).
  const raw: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim();
  }
  const converted = Value.Convert(EnvSchema, raw);
  const errors = [...Value.Errors(EnvSchema, converted)];
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const name = e.instancePath.replace(/^\//, '') || String((e.params as { missingProperties?: string[] }).missingProperties ?? '');
      return `${name}=${secretVariables.has(name) ? '(hidden)' : JSON.stringify(maskCredentials(raw[name] ?? ''))}: ${e.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${[...new Set(lines)].join('\n  ')}`);
  }
  const e = converted as Env;
  const webhookUrls = [...new Set(list(e.WEBHOOK_URLS))];
  const webhookErrors: string[] = [];
  webhookUrls.forEach((url, i) => {
    const problem = webhookUrlProblem(url); // the URL itself is not echoed: its query may hold a token
    if (problem) webhookErrors.push(`WEBHOOK_URLS: entry ${i + 1} ${problem}`);
  });
  if (webhookUrls.length > 0 && !e.WEBHOOK_SECRET) webhookErrors.push('WEBHOOK_SECRET: required when WEBHOOK_URLS is set (at least 32 characters)');
  if (webhookErrors.length > 0) throw new ConfigError(`Invalid configuration:\n  ${webhookErrors.join('\n  ')}`);
  const config: AppConfig = {
    ...defaultConfig,
    port: e.PORT ?? defaultConfig.port,
    host: e.HOST ?? defaultConfig.host,
    dataDir: path.resolve(e.DATA_DIR ?? defaultConfig.dataDir),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    workers: e.WORKERS ?? defaultConfig.workers,
    pgNotify: (e.PG_NOTIFY ?? 'on') === 'on',
    fastPath: (e.FAST_PATH ?? 'on') === 'on',
    logLevel: e.LOG_LEVEL ?? defaultConfig.logLevel,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS ?? defaultConfig.accessTokenTtlSeconds,
    sessionIdleTimeoutSeconds: e.SESSION_IDLE_TIMEOUT_SECONDS ?? defaultConfig.sessionIdleTimeoutSeconds,
    sessionAbsoluteLifetimeSeconds: e.SESSION_ABSOLUTE_LIFETIME_SECONDS ?? defaultConfig.sessionAbsoluteLifetimeSeconds,
    jwtIssuer: e.JWT_ISSUER ?? defaultConfig.jwtIssuer,
    jwtAudience: e.JWT_AUDIENCE ?? defaultConfig.jwtAudience,
    sessionCacheMaxEntries: e.SESSION_CACHE_MAX_ENTRIES ?? defaultConfig.sessionCacheMaxEntries,
    revocationPollIntervalMs: e.REVOCATION_POLL_INTERVAL_MS ?? defaultConfig.revocationPollIntervalMs,
    refreshReuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS ?? defaultConfig.refreshReuseGraceSeconds,
    maxSessionsPerUser: e.MAX_SESSIONS_PER_USER ?? defaultConfig.maxSessionsPerUser,
    sessionLimitMode: e.SESSION_LIMIT_MODE ?? defaultConfig.sessionLimitMode,
    sessionHistoryRetentionSeconds: e.SESSION_HISTORY_RETENTION_SECONDS ?? defaultConfig.sessionHistoryRetentionSeconds,
    purgeIntervalSeconds: e.PURGE_INTERVAL_SECONDS ?? defaultConfig.purgeIntervalSeconds,
    keysFile: e.KEYS_FILE ? path.resolve(e.KEYS_FILE) : undefined,
    trustProxy: list(e.TRUST_PROXY),
    corsOrigins: list(e.CORS_ORIGINS),
    rateLimit: {
      ...defaultConfig.rateLimit,
      enabled: (e.RATE_LIMIT ?? 'on') === 'on',
      perIpPerMinute: e.RATE_LIMIT_PER_IP_PER_MINUTE ?? defaultConfig.rateLimit.perIpPerMinute,
      failuresBeforeDelay: e.LOGIN_FAILURES_BEFORE_DELAY ?? defaultConfig.rateLimit.failuresBeforeDelay,
      ipv6PrefixLength: e.RATE_LIMIT_IPV6_PREFIX ?? defaultConfig.rateLimit.ipv6PrefixLength,
    },
    webhooks: { ...defaultConfig.webhooks, urls: webhookUrls, secret: e.WEBHOOK_SECRET },
  };
  if (config.sessionAbsoluteLifetimeSeconds < config.sessionIdleTimeoutSeconds) {
    // Allowed (the shorter wins), but almost always a typo worth knowing about.
    process.emitWarning(`SESSION_ABSOLUTE_LIFETIME_SECONDS (${config.sessionAbsoluteLifetimeSeconds}) is shorter than SESSION_IDLE_TIMEOUT_SECONDS (${config.sessionIdleTimeoutSeconds}); the absolute lifetime wins.`);
  }
  return config;
}
