import cluster from 'node:cluster';
import { Redis } from 'ioredis';
import pg from 'pg';
import { postgresTimeouts, settledWithin } from '../database/database.ts';
import { canonicalUuidRegex } from '../http/uuid.ts';

/**
 * Push channels that tell other processes "these sessions were just revoked", so their caches
 * refuse them within milliseconds. They are accelerators only: the revocation feed (a poll of the
 * database, the source of truth) bounds staleness whatever happens to them. Messages lost while a
 * subscriber was disconnected are handled by `onGap`: the cache is dropped and re-read.
 */
export interface RevocationBus {
  readonly name: string;
  /** Announces revocations that have committed. Never throws; failures go to onError. */
  publish(sessionIds: string[]): void;
  /** Starts receiving. `onGap` fires after a reconnect, when messages may have been missed. */
  start(handlers: BusHandlers): Promise<void>;
  close(): Promise<void>;
}

export interface BusHandlers {
  onRevoked(sessionIds: string[]): void;
  onGap(): void;
  onError(error: unknown): void;
}

const CHANNEL = 'sessiond:revocations';
/** How often the LISTEN connection proves it is alive. */
const LISTEN_PING_INTERVAL_MS = 5000;
const PG_CHANNEL = 'sessiond_revocations';
/** PostgreSQL NOTIFY payloads are limited to 8000 bytes: 100 UUIDs as JSON is about 3.9 KB. */
const CHUNK = 100;

function chunks(ids: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += CHUNK) out.push(ids.slice(i, i + CHUNK));
  return out;
}

/** Only well-formed session ids are believed from a channel (anything could publish there). */
function parseIds(payload: string): string[] {
  try {
    const value = JSON.parse(payload) as unknown;
    return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string' && canonicalUuidRegex.test(x)) : [];
  } catch {
    return [];
  }
}

/**
 * Redis pub/sub: one connection publishes, a second subscribes (a subscribed connection can do nothing else).
 *
 * Redis is optional, so nothing here may hold up the start or a request: `start` returns at once and
 * the connections come up (and come back) in the background, whatever Redis does (refuses, is
 * stopped mid-handshake, dies, returns). Every time the subscription is (re)established, messages
 * published meanwhile are gone, so `onGap` fires: the cache is dropped and the feed re-read.
 */
export function createRedisBus(url: string): RevocationBus {
  // A publish waits at most 1 s for a hung Redis (the revocation has committed; the feed carries it).
  const publisher = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1000 });
  const subscriber = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
  let handlers: BusHandlers | undefined;
  let closed = false;

  return {
    name: 'redis',
    publish(ids) {
      if (ids.length === 0) return;
      for (const part of chunks(ids)) publisher.publish(CHANNEL, JSON.stringify(part)).catch((e) => handlers?.onError(e));
    },
    async start(h) {
      handlers = h;
      publisher.on('error', () => {}); // reported per publish
      subscriber.on('error', (e) => h.onError(e));
      subscriber.on('message', (_channel, message) => h.onRevoked(parseIds(message)));
      // Not awaited: an unreachable or hung Redis must not delay the start. ioredis keeps retrying
      // after a failed first connect, and resubscribes after every reconnect.
      publisher.connect().catch(() => {});
      subscriber.connect().catch(() => {});
      // Queued until the connection is ready; its acknowledgement means messages flow from now on.
      // Whatever was published before (Redis down at start, or a reconnect) was missed: a gap.
      subscriber.subscribe(CHANNEL).then(
        () => h.onGap(),
        (e) => {
          if (!closed) h.onError(e); // a subscription still queued at close() is not an error
        },
      );
      let readyBefore = false;
      subscriber.on('ready', () => {
        // After a reconnect ioredis resubscribes by itself; the first 'ready' is covered above.
        if (readyBefore) h.onGap();
        readyBefore = true;
      });
    },
    async close() {
      closed = true;
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

/**
 * PostgreSQL LISTEN/NOTIFY: revocations reach every instance on the same database without Redis.
 * NOTIFY goes through the database that committed the revocation, so no extra service can be
 * partitioned away from it.
 */
export function createPostgresBus(url: string, notify: (channel: string, payload: string) => Promise<unknown>): RevocationBus {
  let client: pg.Client | undefined;
  let handlers: BusHandlers | undefined;
  let closed = false;
  let retryMs = 100;
  let timer: NodeJS.Timeout | undefined;

  async function connect(isReconnect: boolean): Promise<void> {
    if (closed || !handlers) return;
    const h = handlers;
    // Bounded like the pool (database/database.ts): a stalled server fails the connect, the LISTEN
    // or the ping below within a second, and the connection is replaced (with onGap) once the
    // server answers again. Without the ping, a silently stalled LISTEN connection looks healthy.
    const c = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: postgresTimeouts.connectMs,
      query_timeout: postgresTimeouts.queryMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    let ping: NodeJS.Timeout | undefined;
    c.on('notification', (msg) => {
      if (msg.channel === PG_CHANNEL && msg.payload) h.onRevoked(parseIds(msg.payload));
    });
    const lost = (error?: unknown) => {
      clearInterval(ping);
      if (client !== c) return;
      client = undefined;
      if (error) h.onError(error);
      c.end().catch(() => {});
      schedule();
    };
    c.on('error', lost);
    c.on('end', () => lost());
    try {
      await c.connect();
      await c.query(`LISTEN ${PG_CHANNEL}`);
      client = c;
      retryMs = 100;
      ping = setInterval(() => {
        if (closed) clearInterval(ping);
        else c.query('select 1').catch(lost);
      }, LISTEN_PING_INTERVAL_MS);
      ping.unref();
      if (isReconnect) h.onGap();
    } catch (error) {
      h.onError(error);
      c.end().catch(() => {});
      schedule();
    }
  }

  function schedule() {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect(true);
    }, retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, 5000);
  }

  return {
    name: 'postgres',
    publish(ids) {
      for (const part of chunks(ids)) notify(PG_CHANNEL, JSON.stringify(part)).catch((e) => handlers?.onError(e));
    },
    async start(h) {
      handlers = h;
      await connect(false);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      // A stalled server never acknowledges the goodbye: shutdown does not wait for it.
      await settledWithin(c?.end(), postgresTimeouts.queryMs);
    },
  };
}

/**
 * Between the worker processes of one `WORKERS=N` server (node:cluster): the primary relays each
 * worker's message to the others. Needs no network, so SQLite deployments get immediate
 * cross-worker revocation too.
 */
export function createClusterBus(): RevocationBus {
  return {
    name: 'cluster',
    publish(ids) {
      if (ids.length > 0 && cluster.isWorker && process.send) process.send({ type: 'sessiond:revoked', ids });
    },
    async start(h) {
      process.on('message', (msg: unknown) => {
        const m = msg as { type?: unknown; ids?: unknown };
        if (m?.type === 'sessiond:revoked' && Array.isArray(m.ids)) h.onRevoked(m.ids.filter((x): x is string => typeof x === 'string' && canonicalUuidRegex.test(x)));
      });
    },
    async close() {},
  };
}

/** Relays revocation messages between workers; called in the cluster primary. */
export function relayClusterRevocations(): void {
  cluster.on('message', (from, msg: unknown) => {
    if ((msg as { type?: unknown })?.type !== 'sessiond:revoked') return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker && worker.id !== from.id && worker.isConnected()) worker.send(msg as object);
    }
  });
}
