import net from 'node:net';
import path from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The only reader of process.env. Every setting is declared once here: the TypeBox schema gives its
 * type, its default and its validation; the README's configuration table mirrors this list.
 */
const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Seconds = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });
/**
 * A boolean setting. Operators write it every way: on/off, true/false, 1/0, in any case (the value
 * is lower-cased before validation, see `flagVariables`).
 */
const flagValues = ['on', 'off', 'true', 'false', '1', '0'] as const;
const Flag = () => Type.Union(flagValues.map((v) => Type.Literal(v)), { description: 'on, off, true, false, 1 or 0 (any case)' });
const isOn = (value: string | undefined, fallback: boolean) => (value === undefined ? fallback : value === 'on' || value === 'true' || value === '1');

/**
 * One entry per variable. The error for a bad value is derived from the entry itself (`accepts`), so
 * a variable added here gets its one-line message with no second list to keep in step.
 */
export const EnvSchema = Type.Object({
  PORT: Type.Optional(Port),
  HOST: Type.Optional(Type.String({ maxLength: 253, pattern: '^[A-Za-z0-9.:%-]+$', description: 'a host name or an IP address (e.g. 127.0.0.1, 0.0.0.0, ::)' })),
  DATA_DIR: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'a postgres:// or postgresql:// URL' })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'a redis:// or rediss:// URL' })),
  WORKERS: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  PG_NOTIFY: Type.Optional(Flag()),
  FAST_PATH: Type.Optional(Flag()),
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
  KEYS_FILE: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  TRUST_PROXY: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  CORS_ORIGINS: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
  RATE_LIMIT: Type.Optional(Flag()),
  REQUIRE_DPOP: Type.Optional(Flag()),
  DPOP_REQUIRE_NONCE: Type.Optional(Flag()),
  RATE_LIMIT_PER_IP_PER_MINUTE: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  LOGIN_FAILURES_BEFORE_DELAY: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  RATE_LIMIT_IPV6_PREFIX: Type.Optional(Type.Integer({ minimum: 1, maximum: 128 })),
  WEBHOOK_URLS: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
  WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 32, maxLength: 1000 })),
  // Printable ASCII without spaces: what fits a `Bearer` header unmangled.
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, maxLength: 1000, pattern: '^[!-~]+$', description: 'a token of 16 to 1000 printable ASCII characters without spaces' })),
  PUBLIC_URL: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'an http(s) URL such as https://auth.example.com' })),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://', maxLength: 2000, description: 'an smtp:// or smtps:// URL' })),
  MAIL_FROM: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
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
  /**
   * The origin browsers reach the service at (PUBLIC_URL), e.g. https://auth.example.com. With
   * https, the refresh cookie is always Secure and __Secure- prefixed, whatever the proxy setup.
   * Also the OpenAPI document's `servers` (default: the listening address).
   */
  publicUrl: string | undefined;
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
  /** Device-bound sessions (dpop/): REQUIRE_DPOP makes sign-up and sign-in bind the session to a key; DPOP_REQUIRE_NONCE makes every proof carry a server nonce. */
  dpop: { required: boolean; requireNonce: boolean; iatWindowSeconds: number };
  /** When set, GET /metrics wants `Authorization: Bearer <this>` (compared in constant time). */
  metricsToken: string | undefined;
  /** Password-reset delivery (password-reset/): by mail through SMTP, or as a webhook event without it. */
  mail: {
    /** smtp:// or smtps:// URL, credentials included; unset = reset links go out as webhook events. */
    smtpUrl: string | undefined;
    /** The From of reset mails, e.g. "Example <no-reply@example.com>"; required with SMTP_URL. */
    from: string | undefined;
    /** How often each process looks for reset requests to deliver; 0 = only when tick() is called (tests). */
    pollIntervalMs: number;
    /** One SMTP attempt is abandoned (and retried later) after this long. */
    timeoutMs: number;
  };
  /** How long a password-reset link works. */
  passwordResetTokenTtlSeconds: number;
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
  publicUrl: undefined,
  webhooks: { urls: [], secret: undefined, pollIntervalMs: 1000, timeoutMs: 5000 },
  dpop: { required: false, requireNonce: false, iatWindowSeconds: 60 },
  metricsToken: undefined,
  mail: { smtpUrl: undefined, from: undefined, pollIntervalMs: 1000, timeoutMs: 10_000 },
  passwordResetTokenTtlSeconds: 30 * 60,
};

const list = (value: string | undefined) => (value ?? '').split(',').map((x) => x.trim()).filter(Boolean);

export class ConfigError extends Error {}

/** Query parameters whose values are shown as they are; every other query value may be a credential. */
const HARMLESS_QUERY_PARAMETERS = new Set(['sslmode', 'connect_timeout', 'application_name', 'family', 'db', 'pool_max_conns']);
const MASK = '***';

/**
 * A URL as it may be shown (the `config` command, error messages): the one masking of credentials.
 * Parsed as a WHATWG URL, not matched by a regex, so every spelling of a credential is found where
 * the clients that read these URLs find it: the password (`postgres://:pw@host`, `redis://:pw@host`,
 * percent-encoded or not), every query value but a few known harmless ones (`?password=`,
 * `?token=`, `?sig=`...), the fragment, and a path that still holds an `@` (a password with an
 * unencoded `/` makes the rest of it look like a path). The user name is kept: it says which account,
 * it is not the secret. A value that does not parse as a URL is hidden whole after its scheme: we
 * cannot know where its credentials are.
 */
export function maskUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(value)?.[0] ?? '';
    return `${scheme}${MASK} (not a parsable URL; hidden)`;
  }
  if (url.password) url.password = MASK;
  if (url.pathname.includes('@')) url.pathname = `/${MASK}`;
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (!HARMLESS_QUERY_PARAMETERS.has(name.toLowerCase())) url.searchParams.set(name, MASK);
  }
  if (url.hash) url.hash = MASK;
  return url.href;
}

/** The configuration as `npm run cli -- config` prints it: every URL through maskUrl, secrets replaced. */
export function maskedConfig(config: AppConfig): AppConfig {
  const mask = (value: string | undefined) => (value === undefined ? undefined : maskUrl(value));
  return {
    ...config,
    databaseUrl: mask(config.databaseUrl),
    redisUrl: mask(config.redisUrl),
    mail: { ...config.mail, smtpUrl: mask(config.mail.smtpUrl) },
    webhooks: { ...config.webhooks, urls: config.webhooks.urls.map(maskUrl), secret: config.webhooks.secret === undefined ? undefined : MASK },
    metricsToken: config.metricsToken === undefined ? undefined : MASK,
  };
}

/** Variables whose values never appear in an error message. */
const secretVariables = new Set(['WEBHOOK_SECRET', 'METRICS_TOKEN']);
/** Variables holding URLs: they appear in messages only through maskUrl. */
const urlVariables = new Set(['DATABASE_URL', 'REDIS_URL', 'WEBHOOK_URLS', 'PUBLIC_URL', 'SMTP_URL']);
/** How a variable's value appears in an error message (long values cut). */
const shownValue = (name: string, value: string) => {
  if (secretVariables.has(name)) return '(hidden)';
  const shown = urlVariables.has(name) ? value.split(',').map((v) => maskUrl(v.trim())).join(',') : value;
  return JSON.stringify(shown.length > 100 ? `${shown.slice(0, 100)}…` : shown);
};

type SchemaNode = { type?: string; minimum?: number; maximum?: number; minLength?: number; maxLength?: number; description?: string; anyOf?: { const?: unknown }[] };

/** What a variable accepts, in words, from its schema entry (`description` when the rule is a pattern). */
export function accepts(schema: unknown): string {
  const s = schema as SchemaNode;
  if (s.description) return s.description;
  if (s.anyOf) return `one of ${s.anyOf.map((x) => String(x.const)).join(', ')}`;
  if (s.type === 'integer') return `an integer from ${s.minimum} to ${s.maximum}`;
  if (s.type === 'string') {
    if (s.maxLength !== undefined) return `${s.minLength ?? 0} to ${s.maxLength} characters`;
    return 'a non-empty string';
  }
  return 'a valid value';
}

/** Why a value is not a usable http(s) URL (PUBLIC_URL, each WEBHOOK_URLS entry), or undefined. */
function httpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'is not an http(s) URL';
  // fetch refuses them, and a webhook's signature already authenticates the sender.
  if (url.username || url.password) return 'must not contain credentials';
  return undefined;
}

/** An entry of TRUST_PROXY as proxy-addr understands it: an address, a CIDR, address/netmask, or a named range. */
function isProxyEntry(entry: string): boolean {
  if (entry === 'loopback' || entry === 'linklocal' || entry === 'uniquelocal') return true;
  const [address = '', suffix, extra] = entry.split('/');
  const version = net.isIP(address);
  if (version === 0 || extra !== undefined) return false;
  if (suffix === undefined) return true;
  if (/^[0-9]{1,3}$/.test(suffix)) return Number(suffix) <= (version === 4 ? 32 : 128);
  return version === 4 && net.isIPv4(suffix);
}

/** An entry of CORS_ORIGINS: exactly an origin (scheme, host, optional port; no path). */
function isOrigin(entry: string): boolean {
  try {
    const url = new URL(entry);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === entry;
  } catch {
    return false;
  }
}

/** Boolean variables: their value is lower-cased before it is checked (RATE_LIMIT=False works). */
const flagVariables = new Set(Object.entries(EnvSchema.properties).filter(([, s]) => (s as SchemaNode).anyOf?.some((x) => x.const === 'true')).map(([k]) => k));

/**
 * Reads and validates the environment. A bad value throws a ConfigError whose message is ONE line
 * naming each bad variable and what it accepts (a start script or a container log shows it whole).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Only our variables, and empty strings count as unset (a common shell habit: `FOO= npm start`).
  const converted: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(EnvSchema.properties)) {
    const given = env[key]?.trim();
    if (given === undefined || given === '') continue;
    const value = flagVariables.has(key) ? given.toLowerCase() : given;
    // Convert one value at a time: Value.Convert may change what it is given, and the message
    // must quote the operator's text, not a converted number.
    const candidate = Value.Convert(schema, value);
    if (Value.Check(schema, candidate)) {
      converted[key] = candidate;
    } else {
      problems.push(`${key}=${shownValue(key, given)}: expected ${accepts(schema)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  const e = converted as Env;
  const webhookUrls = [...new Set(list(e.WEBHOOK_URLS))];
  const entryErrors: string[] = [];
  webhookUrls.forEach((url, i) => {
    const problem = httpUrlProblem(url); // the URL itself is not echoed: its query may hold a token
    if (problem) entryErrors.push(`WEBHOOK_URLS: entry ${i + 1} ${problem} (expected comma-separated http(s) URLs)`);
  });
  list(e.TRUST_PROXY).forEach((entry, i) => {
    if (!isProxyEntry(entry)) entryErrors.push(`TRUST_PROXY: entry ${i + 1} ${JSON.stringify(entry)} is not an address (expected comma-separated IP addresses, CIDRs, loopback, linklocal or uniquelocal)`);
  });
  list(e.CORS_ORIGINS).forEach((entry, i) => {
    if (!isOrigin(entry)) entryErrors.push(`CORS_ORIGINS: entry ${i + 1} ${JSON.stringify(entry)} is not an origin (expected comma-separated origins such as https://app.example.com)`);
  });
  const publicUrlProblem = e.PUBLIC_URL === undefined ? undefined : httpUrlProblem(e.PUBLIC_URL);
  if (publicUrlProblem) entryErrors.push(`PUBLIC_URL=${shownValue('PUBLIC_URL', e.PUBLIC_URL!)}: ${publicUrlProblem} (expected an http(s) URL such as https://auth.example.com)`);
  if (webhookUrls.length > 0 && !e.WEBHOOK_SECRET) entryErrors.push('WEBHOOK_SECRET: required when WEBHOOK_URLS is set (at least 32 characters)');
  // A reset mail needs a sender and a link to send.
  if (e.SMTP_URL && !e.MAIL_FROM) entryErrors.push('MAIL_FROM: required when SMTP_URL is set');
  if (e.SMTP_URL && !e.PUBLIC_URL) entryErrors.push('PUBLIC_URL: required when SMTP_URL is set (reset links start with it)');
  if (entryErrors.length > 0) throw new ConfigError(`Invalid configuration: ${entryErrors.join('; ')}`);
  const config: AppConfig = {
    ...defaultConfig,
    port: e.PORT ?? defaultConfig.port,
    host: e.HOST ?? defaultConfig.host,
    dataDir: path.resolve(e.DATA_DIR ?? defaultConfig.dataDir),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    workers: e.WORKERS ?? defaultConfig.workers,
    pgNotify: isOn(e.PG_NOTIFY, true),
    fastPath: isOn(e.FAST_PATH, true),
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
      enabled: isOn(e.RATE_LIMIT, true),
      perIpPerMinute: e.RATE_LIMIT_PER_IP_PER_MINUTE ?? defaultConfig.rateLimit.perIpPerMinute,
      failuresBeforeDelay: e.LOGIN_FAILURES_BEFORE_DELAY ?? defaultConfig.rateLimit.failuresBeforeDelay,
      ipv6PrefixLength: e.RATE_LIMIT_IPV6_PREFIX ?? defaultConfig.rateLimit.ipv6PrefixLength,
    },
    // Without a trailing slash, so links are `${publicUrl}/reset-password?…`.
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    webhooks: { ...defaultConfig.webhooks, urls: webhookUrls, secret: e.WEBHOOK_SECRET },
    dpop: { ...defaultConfig.dpop, required: isOn(e.REQUIRE_DPOP, false), requireNonce: isOn(e.DPOP_REQUIRE_NONCE, false) },
    metricsToken: e.METRICS_TOKEN,
    mail: { ...defaultConfig.mail, smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
  };
  if (config.sessionAbsoluteLifetimeSeconds < config.sessionIdleTimeoutSeconds) {
    // Allowed (the shorter wins), but almost always a typo worth knowing about.
    process.emitWarning(`SESSION_ABSOLUTE_LIFETIME_SECONDS (${config.sessionAbsoluteLifetimeSeconds}) is shorter than SESSION_IDLE_TIMEOUT_SECONDS (${config.sessionIdleTimeoutSeconds}); the absolute lifetime wins.`);
  }
  return config;
}
