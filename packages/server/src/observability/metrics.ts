import crypto from 'node:crypto';
import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { AppError } from '../errors.ts';
import { answerPrimaryScrapes, scrapeWholeCluster } from './cluster-metrics.ts';
import { RequestMetrics } from './request-metrics.ts';
import type { Telemetry } from './telemetry.ts';

export interface MetricsSources {
  /** Active sessions across all users (a database count; cached briefly by the caller). */
  activeSessions(): Promise<number>;
  /** Webhook delivery state, when webhooks are configured. */
  webhooks?: () => { lagSeconds: number; failures: number } | undefined;
  /** Whether Redis answers, when it is configured (health-routes.ts `redisCheck`). */
  redisUp?: () => Promise<boolean>;
  /** Password-reset link delivery (by mail or to the webhook outbox) since start. */
  passwordResets?: () => { delivered: number; failures: number } | undefined;
}

/**
 * Prometheus metrics on a registry of this app's own (tests build many apps in one process).
 * Route labels use the route pattern (/sessions/:sessionId), never the raw URL, so label
 * cardinality stays bounded and no id or token can land in a label. Created first of all (every
 * unit reports through its telemetry); the units that own a source hand it over with `provide`
 * once they exist, and a source not (yet) provided reads as zero.
 */
export function createMetrics(initialSources: Partial<MetricsSources> = {}) {
  const sources: Partial<MetricsSources> = {};
  const registry = new Registry();
  // Standard names, no prefix (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, ...): stock
  // Node.js dashboards and alerts find them. Our own metrics carry the sessiond_ prefix.
  collectDefaultMetrics({ register: registry });
  const requests = new RequestMetrics([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
  requests.register(registry);
  const signIns = new Counter({ name: 'sessiond_sign_ins_total', help: 'Sign-in attempts by result', labelNames: ['result'], registers: [registry] });
  const signUps = new Counter({ name: 'sessiond_sign_ups_total', help: 'Accounts created', registers: [registry] });
  const refreshes = new Counter({ name: 'sessiond_refreshes_total', help: 'Token refreshes by result', labelNames: ['result'], registers: [registry] });
  const revocations = new Counter({ name: 'sessiond_revocations_total', help: 'Sessions ended, by reason', labelNames: ['reason'], registers: [registry] });
  const reuse = new Counter({ name: 'sessiond_refresh_token_reuse_detections_total', help: 'Rotated-away refresh tokens presented (session revoked)', registers: [registry] });
  // Counted in plain numbers (one per request: prom-client's labelled inc() hashes its labels each
  // time) and handed to the counter when scraped.
  const cacheLookups = { hit: 0, miss: 0 };
  new Counter({
    name: 'sessiond_session_cache_lookups_total',
    help: 'Per-request session checks by cache result',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: 'hit' }, cacheLookups.hit);
      this.inc({ result: 'miss' }, cacheLookups.miss);
    },
  });
  const backendErrors = new Counter({ name: 'sessiond_backend_errors_total', help: 'Errors talking to the database or Redis', labelNames: ['backend'], registers: [registry] });

  let activeCache: { value: number; atMs: number } | undefined;
  new Gauge({
    name: 'sessiond_active_sessions',
    help: 'Active sessions across all users',
    registers: [registry],
    // Every worker counts the same database: across workers the value is the same, not a sum.
    aggregator: 'max',
    async collect() {
      // A COUNT over the partial index; cached 10 s so frequent scrapes cost the database little.
      const activeSessions = sources.activeSessions;
      if (!activeSessions) return this.set(0);
      if (!activeCache || Date.now() - activeCache.atMs > 10_000) activeCache = { value: await activeSessions(), atMs: Date.now() };
      this.set(activeCache.value);
    },
  });
  new Gauge({
    name: 'sessiond_webhook_delivery_lag_seconds',
    help: 'Age of the oldest session event not yet delivered to every webhook (0 when caught up)',
    registers: [registry],
    aggregator: 'max',
    collect() {
      this.set(sources.webhooks?.()?.lagSeconds ?? 0);
    },
  });
  new Counter({
    name: 'sessiond_webhook_delivery_failures_total',
    help: 'Failed webhook delivery attempts since start',
    registers: [registry],
    collect() {
      // The deliverer counts; the counter takes its running total at scrape (it only grows).
      this.reset();
      this.inc(sources.webhooks?.()?.failures ?? 0);
    },
  });

  new Counter({
    name: 'sessiond_password_reset_deliveries_total',
    help: 'Password-reset links handed to the SMTP server or the webhook outbox since start',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.passwordResets?.()?.delivered ?? 0);
    },
  });
  new Counter({
    name: 'sessiond_password_reset_delivery_failures_total',
    help: 'Failed password-reset mail attempts since start (each is retried with back-off)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.passwordResets?.()?.failures ?? 0);
    },
  });

  /** Takes the sources their owners provide; the Redis gauge exists only where Redis is configured. */
  function provide(more: Partial<MetricsSources>) {
    Object.assign(sources, more);
    const redisUp = more.redisUp;
    if (redisUp) {
      new Gauge({
        name: 'sessiond_redis_up',
        help: 'Whether Redis answers a PING (1) or not (0); the service serves either way',
        registers: [registry],
        aggregator: 'min',
        async collect() {
          this.set((await redisUp()) ? 1 : 0);
        },
      });
    }
  }
  provide(initialSources);

  const telemetry: Telemetry = {
    signIn: (result) => signIns.inc({ result }),
    signUp: () => signUps.inc(),
    refresh: (result) => refreshes.inc({ result }),
    revoked: (reason, count) => {
      revocations.inc({ reason }, count);
      if (reason === 'refresh_token_reused') reuse.inc(count);
    },
    cacheLookup: (hit) => {
      if (hit) cacheLookups.hit++;
      else cacheLookups.miss++;
    },
    backendError: (backend) => backendErrors.inc({ backend }),
  };

  /** Records one answered request (Fastify's onResponse hook and the fast path both call this). */
  const recordRequest = (method: string, route: string, statusCode: number, seconds: number) => requests.record(method, route, statusCode, seconds);

  // In a node:cluster worker, a scrape must show the whole instance, not whichever worker the
  // connection landed on (Prometheus would see counters jump back: resets). The primary gathers
  // every worker's registry over IPC and sums it (observability/cluster-metrics.ts).
  if (cluster.isWorker) answerPrimaryScrapes(registry);

  /**
   * Records every answered request (onResponse) and serves GET /metrics; with `token`, only to
   * `Authorization: Bearer <token>` (the metrics name routes and volumes: not for everyone).
   */
  function register(app: FastifyInstance, options: { token?: string | undefined } = {}) {
    app.addHook('onResponse', function requestMetrics(request, reply, done) {
      const route = request.routeOptions.url ?? 'unmatched';
      if (route !== '/metrics') recordRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
    // Both sides hashed first: timingSafeEqual needs equal lengths, and comparing digests in constant
    // time reveals neither the token's length nor how much of a guess matched.
    const expected = options.token === undefined ? undefined : crypto.createHash('sha256').update(options.token).digest();
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (expected) {
        const m = /^Bearer ([!-~]+)$/.exec(request.headers.authorization ?? '');
        const given = crypto.createHash('sha256').update(m?.[1] ?? '').digest();
        if (!m || !crypto.timingSafeEqual(given, expected)) {
          throw new AppError('unauthenticated', 'GET /metrics needs the configured metrics token.');
        }
      }
      const text = cluster.isWorker ? await scrapeWholeCluster() : await registry.metrics();
      return reply.type(registry.contentType).send(text);
    });
  }

  return { registry, telemetry, register, recordRequest, provide };
}

export type Metrics = ReturnType<typeof createMetrics>;

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's metrics (observability/metrics.ts): telemetry for the units, sources they provide. */
    metrics: Metrics;
  }
}

/** The metrics, first of all units: every other one reports through them. */
export const metricsPlugin = fp(
  async (app) => {
    app.decorate('metrics', createMetrics());
  },
  { name: 'sessiond-metrics' },
);
