import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { AppConfig } from '../config.ts';
import type { Database } from '../database/tables.ts';
import type { EventStore } from '../events/session-event.ts';
import { sessionEventStream } from '../sessions/session-event-stream.ts';
import type { SessionService } from '../sessions/session-service.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import type { Dpop } from '../dpop/dpop-http.ts';
import { backgroundErrorLogger } from '../observability/background-errors.ts';
import { createKyselyEventLog } from './kysely-event-log.ts';
import { revocationRoutes } from './revocation-routes.ts';
import { revocationSchemas } from './revocation-schemas.ts';
import type { ServiceKeyStore } from '../service-keys/service-key-store.ts';
import { SessionEventHub } from './session-event-hub.ts';
import { SseRegistry } from './sse.ts';

/**
 * Heartbeat of the revocation streams. @sessiond/verify stops trusting its memory after 2 s of
 * silence by default, so the heartbeat must come well inside that (the floor is one every 5 s).
 */
const HEARTBEAT_MS = 1000;
/**
 * Heartbeat of the devices' streams (GET /sessions/events). Nothing there measures silence (the SDK
 * and the page only read events); the heartbeat keeps proxies and load balancers, whose idle
 * timeouts are commonly 60 s, from closing a quiet stream. One every 5 s, not every second: with
 * 10,000 devices connected that is 2,000 socket writes a second instead of 10,000.
 */
const DEVICE_HEARTBEAT_MS = 5000;
/** While anyone listens, the log is read at least this often (pokes make it immediate). */
const HUB_POLL_INTERVAL_MS = 500;
/** A service key revoked while streaming ends its streams within this. */
const KEY_RECHECK_MS = 5000;

export interface LiveStreams {
  /** Something committed (here, or announced by another instance): streams read the log now. */
  poke(): void;
  schemas: typeof revocationSchemas;
  routes: FastifyPluginAsync<{ sessions: SessionService; accessTokens: AccessTokens; dpop: Dpop; serviceKeys: ServiceKeyStore }>;
  /** Open streams in this process (services' and devices'). */
  openStreams(): number;
  /** Ends every open stream now, as a restart would (clients reconnect); for tests and operators. */
  dropAll(): void;
}

/** The live streams, created in one place and closed in one place: the routes plugin's close hooks. */
export function createLiveStreams(deps: { db: Kysely<Database>; events: EventStore; clock: Clock; config: AppConfig; onError: (error: unknown) => void }): LiveStreams {
  const log = createKyselyEventLog(deps.db, deps.events);
  const hub = new SessionEventHub(log, { pollIntervalMs: HUB_POLL_INTERVAL_MS, batchLimit: 1000 }, deps.onError);
  const registry = new SseRegistry(HEARTBEAT_MS);
  return {
    poke: () => hub.poke(),
    schemas: revocationSchemas,
    openStreams: () => registry.size,
    dropAll: () => registry.dropAll(),
    routes: async (app, { sessions, accessTokens, dpop, serviceKeys }) => {
      // Streams never end by themselves: end them when closing starts, or close() would wait forever.
      app.addHook('preClose', (done) => {
        registry.closeAll();
        done();
      });
      app.addHook('onClose', async () => hub.stop());
      await app.register(revocationRoutes, {
        serviceKeys,
        hub,
        log,
        registry,
        clock: deps.clock,
        tokenLifetimeMs: deps.config.accessTokenTtlSeconds * 1000,
        keyRecheckMs: KEY_RECHECK_MS,
      });
      await app.register(sessionEventStream, { sessions, accessTokens, dpop, hub, registry, heartbeatMs: DEVICE_HEARTBEAT_MS, clock: deps.clock });
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    liveStreams: LiveStreams;
  }
}

/**
 * The live streams, created before the units that poke them (revocation sync, sessions); their
 * routes, and with them their close hooks, are registered with the other routes (http/routes.ts).
 */
export const liveStreamsPlugin = fp(
  async (app) => {
    app.decorate('liveStreams', createLiveStreams({ db: app.database.db, events: app.stores.events, clock: app.clock, config: app.config, onError: backgroundErrorLogger(app.log) }));
  },
  { name: 'sessiond-live-streams', dependencies: ['sessiond-database', 'sessiond-stores'] },
);
