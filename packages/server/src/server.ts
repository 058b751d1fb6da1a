import cluster from 'node:cluster';
import path from 'node:path';
import pino from 'pino';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type AppConfig } from './config.ts';
import { migrateToLatest, openDatabase } from './database/database.ts';
import { serveClusterMetrics } from './observability/cluster-metrics.ts';
import { relayClusterRevocations } from './sessions/revocation-bus.ts';
import { loadOrCreateKeyFile } from './tokens/key-store.ts';

/**
 * Reads configuration, then either runs the service in this process (WORKERS=1) or, as a
 * node:cluster primary, prepares shared state once (migrations, key file) and forks WORKERS worker
 * processes that share the port. Shuts down gracefully on SIGTERM/SIGINT.
 */
function readConfig(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

function baseUrl(config: AppConfig, port: number): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${port}`;
}

/** `startMs`: from building the app to listening (what Redis or the database could slow down). */
function announce(config: AppConfig, port: number, workers: number, startMs?: number) {
  const base = baseUrl(config, port);
  const storage = config.databaseUrl ? `PostgreSQL${config.redisUrl ? ' + Redis' : ''}` : `SQLite in ${config.dataDir}`;
  // stdout is for JSON lines (log collectors parse every line); the human banner only on a terminal.
  // Written at any LOG_LEVEL but silent: it is the one line saying the service is up, and where.
  if (!process.stdout.isTTY) {
    if (config.logLevel !== 'silent') pino(pino.destination({ dest: 1, sync: true })).info({ url: base, storage, workers, startMs }, `sessiond listening on ${base}`);
    return;
  }
  console.log(
    `sessiond listening on ${base} (storage: ${storage}${workers > 1 ? `, ${workers} workers` : ''})\n` +
      `  API reference: ${base}/docs\n  OpenAPI:       ${base}/openapi.json`,
  );
}

async function runWorker(config: AppConfig) {
  const building = performance.now();
  const app = await buildApp(config);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (cluster.isWorker) process.send?.({ type: 'sessiond:listening', port });
  else announce(config, port, 1, Math.round(performance.now() - building));

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await app.close(); // stops accepting, lets in-flight requests finish, closes pools
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function runPrimary(config: AppConfig) {
  // Done once here, so workers never race each other over migrations or key creation.
  const database = openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: path.join(config.dataDir, 'sessiond.sqlite') });
  try {
    await migrateToLatest(database.db);
  } finally {
    await database.close();
  }
  loadOrCreateKeyFile(config.keysFile ?? path.join(config.dataDir, 'keys.json'), Date.now());

  relayClusterRevocations();
  serveClusterMetrics();
  let stopping = false;
  let announced = false;
  cluster.on('message', (_worker, msg: { type?: string; port?: number }) => {
    if (msg?.type === 'sessiond:listening' && !announced) {
      announced = true;
      announce(config, msg.port ?? config.port, config.workers);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    console.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting a new one`);
    cluster.fork();
  });
  for (let i = 0; i < config.workers; i++) cluster.fork();

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGTERM'));
}

const config = readConfig();
const run = config.workers > 1 && cluster.isPrimary ? runPrimary(config) : runWorker(config);
run.catch((error) => {
  console.error('sessiond failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
