/**
 * The peer: Better Auth (email + password, its default database sessions) on a bare node:http
 * server, as its Node integration documents it. Started by bench/run.ts, pinned to the server core.
 *
 *   PORT=… BETTER_AUTH_DATABASE=sqlite:/tmp/x.sqlite | postgres://… node --import tsx bench/servers/better-auth.ts
 *
 * Configured like sessiond in the benchmark: rate limiting off, telemetry off, logs at error level.
 * Session cookie caching stays at its default (off), so get-session reads the database as Better
 * Auth does out of the box; the server stops by itself after BENCH_MAX_LIFETIME_SECONDS.
 */
import http from 'node:http';
import SQLite from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import pg from 'pg';

const port = Number(process.env.PORT);
const database = process.env.BETTER_AUTH_DATABASE ?? '';
if (!port || !database) throw new Error('PORT and BETTER_AUTH_DATABASE are required');
const baseURL = `http://127.0.0.1:${port}`;

const pool = database.startsWith('postgres') ? new pg.Pool({ connectionString: database, max: 10 }) : undefined;
const sqlite = pool ? undefined : new SQLite(database.replace(/^sqlite:/, ''));
// The same pragmas sessiond uses, so the two embedded modes are alike.
sqlite?.pragma('journal_mode = WAL');
sqlite?.pragma('synchronous = NORMAL');

const options = {
  baseURL,
  secret: 'bench-only-secret-0123456789abcdef0123456789abcdef',
  database: pool ?? sqlite!,
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { level: 'error' as const },
  trustedOrigins: [baseURL],
};
const auth = betterAuth(options);
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const server = http.createServer(toNodeHandler(auth));
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`better-auth listening on ${baseURL}`));

const stop = () => {
  server.close();
  server.closeAllConnections();
  void pool?.end();
  sqlite?.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, Number(process.env.BENCH_MAX_LIFETIME_SECONDS ?? 900) * 1000).unref();
