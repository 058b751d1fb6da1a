import cluster from 'node:cluster';
import fp from 'fastify-plugin';
import { sql } from 'kysely';
import { backgroundErrorLogger } from '../observability/background-errors.ts';
import { createClusterBus, createPostgresBus, createRedisBus, type RevocationBus } from './revocation-bus.ts';
import { RevocationFeed } from './revocation-feed.ts';
import { SessionCache } from './session-cache.ts';

/**
 * How stale the session cache may be: it trusts cached state only while the revocation feed has
 * synced within two poll intervals (plus slack for one slow query); past that, checks go to the
 * database.
 */
export function cacheStalenessMs(revocationPollIntervalMs: number): number {
  return 2 * revocationPollIntervalMs + 500;
}

export interface RevocationSync {
  /** The per-process session cache the feed and the push channels keep honest. */
  cache: SessionCache;
  /** Announces revocations that committed here to the other processes (every push channel). */
  publish(sessionIds: string[]): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    revocationSync: RevocationSync;
  }
}

/**
 * Revocations made elsewhere reach this process's cache: the push channels (PostgreSQL
 * LISTEN/NOTIFY, Redis pub/sub, the cluster's IPC: sessions/revocation-bus.ts) make it fast, the
 * event feed (sessions/revocation-feed.ts) bounds staleness when they fail. The first sync happens
 * before serving, so the cache is trusted from the first request. Each part closes beside its
 * start: the feed stops first, then the channels (onClose hooks run in reverse order).
 */
export const revocationSyncPlugin = fp(
  async (app) => {
    const { config, clock, database } = app;
    const telemetry = app.metrics.telemetry;
    const live = app.liveStreams;
    const buses: RevocationBus[] = [];
    if (database.dialect === 'postgres' && config.databaseUrl && config.pgNotify) {
      buses.push(createPostgresBus(config.databaseUrl, (channel, payload) => sql`select pg_notify(${channel}, ${payload})`.execute(database.db)));
    }
    if (config.redisUrl) buses.push(createRedisBus(config.redisUrl));
    if (cluster.isWorker) buses.push(createClusterBus());
    app.addHook('onClose', async () => {
      for (const bus of buses) await bus.close();
    });

    const cache = new SessionCache({ maxEntries: config.sessionCacheMaxEntries, maxStalenessMs: cacheStalenessMs(config.revocationPollIntervalMs) });
    const feed = new RevocationFeed(app.stores.events, cache, clock, {
      pollIntervalMs: config.revocationPollIntervalMs,
      pageSize: 1000,
      batchLimit: 10_000,
    }, backgroundErrorLogger(app.log));
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
    app.addHook('onClose', async () => feed.stop());
    // First sync before serving, so the cache is trusted from the first request.
    await feed.pollOnce();
    feed.start();

    app.decorate('revocationSync', {
      cache,
      publish: (ids) => {
        for (const bus of buses) bus.publish(ids);
      },
    } satisfies RevocationSync);
  },
  { name: 'sessiond-revocation-sync', dependencies: ['sessiond-metrics', 'sessiond-database', 'sessiond-stores', 'sessiond-live-streams'] },
);
