import cluster from 'node:cluster';
import fp from 'fastify-plugin';
import { ClusterCounterStore } from './cluster-counter-store.ts';
import { MemoryCounterStore, type CounterStore } from './counter-store.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { RedisCounterStore } from './redis-counter-store.ts';

declare module 'fastify' {
  interface FastifyInstance {
    limiter: RateLimiter;
  }
}

/**
 * The rate limiter's counters: given by the caller (tests), shared in Redis behind a breaker
 * (abuse/redis-counter-store.ts) when Redis is configured, process memory otherwise: this process's,
 * or in a `WORKERS=N` worker the cluster primary's (abuse/cluster-counter-store.ts), so that N
 * workers do not make N times every limit.
 */
export const rateLimitPlugin = fp<{ counters?: CounterStore | undefined }>(
  async (app, options) => {
    const { clock, redis } = app;
    const telemetry = app.metrics.telemetry;
    const ownMemory = () => new MemoryCounterStore(() => clock.now());
    const memory = () => (cluster.isWorker ? new ClusterCounterStore(ownMemory()) : ownMemory());
    const redisCounters = redis && !options.counters
      ? new RedisCounterStore(redis, memory(), {
          now: () => clock.now(),
          onError: (error) => {
            telemetry.backendError('redis');
            app.log.warn({ err: error }, 'rate-limit counters fall back to process memory until Redis answers');
          },
        })
      : undefined;
    if (redisCounters) app.addHook('onClose', async () => redisCounters.close());
    app.decorate('limiter', createRateLimiter(options.counters ?? redisCounters ?? memory(), app.config.rateLimit, () => clock.now()));
  },
  { name: 'sessiond-rate-limit', dependencies: ['sessiond-metrics', 'sessiond-redis'] },
);
