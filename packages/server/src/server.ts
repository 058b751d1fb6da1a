import cluster from 'node:cluster';
import pino from 'pino';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type AppConfig } from './config.ts';
import { dataFiles } from './data-files.ts';
import { migrateDatabase, openDatabase } from './database/database.ts';
import { serveClusterCounters } from './abuse/cluster-counter-store.ts';
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
  // Listen for the signals before anything starts: a SIGTERM that arrives while the database
  // migrates still ends in a clean shutdown (as soon as there is something to shut down), never in
  // the default action, which would kill the process mid-start.
  let stopSignal: NodeJS.Signals | undefined;
  let shutdown: ((signal: NodeJS.Signals) => Promise<void>) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stopSignal ??= signal;
    void shutdown?.(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const building = performance.now();
  const app = await buildApp(config);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (cluster.isWorker) process.send?.({ type: 'sessiond:listening', port });
  else announce(config, port, 1, Math.round(performance.now() - building));

  let closing = false;
  shutdown = async (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await app.close(); // stops accepting, lets in-flight requests finish, closes pools
    process.exit(0);
  };
  if (stopSignal) await shutdown(stopSignal);
}

async function runPrimary(config: AppConfig) {
  // The signals are ours from the start: a SIGTERM during the migrations lets them finish, then
  // the primary exits 0 without forking.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Forwarded, not left to the process group: a supervisor (npm, Docker, systemd) signals only
    // the primary. Then the primary waits for every worker to drain before it exits.
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  // Done once here, so workers never race each other over migrations or key creation.
  const database = openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: dataFiles(config).sqliteFile });
  try {
    await migrateDatabase(database);
  } finally {
    await database.close();
  }
  loadOrCreateKeyFile(dataFiles(config).keysFile, Date.now());
  if (stopping) process.exit(0);

  relayClusterRevocations();
  serveClusterMetrics();
  serveClusterCounters();
  let announced = false;
  cluster.on('message', (_worker, msg: { type?: string; port?: number }) => {
    if (msg?.type === 'sessiond:listening' && !announced) {
      announced = true;
      announce(config, msg.port ?? config.port, config.workers);
    }
  });
  let failedWorkers = 0;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      // The primary's exit code tells a supervisor whether every worker drained cleanly.
      if (code !== 0) failedWorkers++;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failedWorkers === 0 ? 0 : 1);
      return;
    }
    console.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting a new one`);
    cluster.fork();
  });
  for (let i = 0; i < config.workers; i++) cluster.fork();
}

const config = readConfig();
const run = config.workers > 1 && cluster.isPrimary ? runPrimary(config) : runWorker(config);
run.catch((error) => {
  console.error('sessiond failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
