import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { redisCheck } from '../observability/health-routes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The shared Redis client (REDIS_URL), or undefined: Redis is optional. */
    redis: Redis | undefined;
  }
}

/**
 * The Redis client for the shared counters, the DPoP replay check and /ready (the revocation bus
 * keeps its own subscriber connection: sessions/revocation-bus.ts). Commands fail at once while it
 * is down (no offline queue, no retries) and every caller falls back to process memory.
 */
export const redisPlugin = fp(
  async (app) => {
    const url = app.config.redisUrl;
    const redis = url ? new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250 }) : undefined;
    app.decorate('redis', redis);
    if (!redis) return;
    redis.on('error', () => {}); // each failed command reports itself (and falls back)
    app.addHook('onClose', async () => redis.disconnect());
    app.metrics.provide({ redisUp: async () => (await redisCheck(redis)) === 'ok' });
    // Not awaited: Redis is optional, and a Redis that refuses or hangs mid-handshake must not hold up
    // the start. ioredis keeps reconnecting in the background; until then its commands fail at once
    // (no offline queue) and the callers fall back.
    redis.connect().catch((error: unknown) => app.log.warn({ err: error }, 'Redis unavailable at start; retrying in the background'));
  },
  { name: 'sessiond-redis', dependencies: ['sessiond-metrics'] },
);
