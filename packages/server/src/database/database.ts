import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { Database } from './tables.ts';
import { makePrivateDir, restrictToOwner } from '../private-files.ts';
import { migrationProvider } from './migrations/index.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /**
   * Runs `work` on a connection without the fail-fast timeouts below (PostgreSQL: a separate
   * one-connection pool, closed afterwards): migrations, whose DDL on a large table or whose wait
   * for another instance's migration lock may rightly take longer.
   */
  withoutTimeouts<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Closes the pool or file; safe to call twice. */
  close(): Promise<void>;
}

/**
 * How long PostgreSQL may take before a request gives up with 503 (database_unavailable), so that
 * a stalled or black-holed server never makes a request hang. A request that needs the database
 * answers within about connectMs + queryMs (1.8 s) in the worst case: waiting for a pooled
 * connection or opening one, then one statement that does not answer. Legitimate statements take
 * milliseconds (docs/BENCHMARKS.md, at a million sessions too).
 */
export const postgresTimeouts = {
  /** Opening a connection, or waiting for a free one in a full pool (pg-pool applies it to both). */
  connectMs: 800,
  /** Client side: a statement without an answer is abandoned and its connection destroyed. */
  queryMs: 1000,
  /** Server side: a statement running longer is cancelled, releasing its locks (57014). */
  statementMs: 900,
  /**
   * Server side: waiting longer than this for a row lock fails (55P03) instead of committing late;
   * e.g. a revocation queued behind another transaction's lock. Set per transaction too
   * (SET LOCAL, see kysely-session-store.ts), which also holds behind a transaction-mode pooler
   * that drops startup parameters.
   */
  lockMs: 800,
  /** Server side: a transaction left open by a client that vanished ends, releasing its locks. */
  idleInTransactionMs: 5000,
} as const;

/** Waits for `promise` to settle, at most `ms`; never rejects. */
export async function settledWithin(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise?.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** The message of node-postgres's client-side query timeout (query_timeout). */
export const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * A pg client that destroys its connection when a statement times out on the client side: the
 * server has not answered (stopped, or the network dropped it), so the connection's state is
 * unknown and queries queued behind it would only wait too. Destroyed, it leaves the pool, and the
 * next query opens a fresh connection (itself bounded by connectMs).
 */
class FailFastClient extends pg.Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's query() has a dozen overloads; `any` is what satisfies them all
  override query(...args: unknown[]): any {
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if ((error as Error | undefined)?.message === QUERY_TIMEOUT_MESSAGE) (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      });
    }
    return result;
  }
}

export interface DatabaseOptions {
  /** postgres://… for PostgreSQL; unset for SQLite. */
  databaseUrl?: string | undefined;
  /** SQLite file path, or ':memory:'. Used when databaseUrl is unset. */
  sqliteFile?: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /**
   * SQLite's `synchronous` pragma. FULL (the default) syncs the WAL at every commit, so an
   * acknowledged revocation or sign-out survives power loss; NORMAL only survives a process crash.
   * NORMAL exists for the measurement in bench/sqlite-durability.ts.
   */
  sqliteSynchronous?: 'full' | 'normal';
}

// int8 (bigint, COUNT(*)) arrives as a string by default; our integers are epoch milliseconds and
// counts, far below 2^53, so a Number is exact. Scoped to our pool, not set globally on `pg`.
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : (pg.types.getTypeParser(oid, format) as (value: string) => unknown)) as typeof pg.types.getTypeParser,
};

export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      types: pgTypes,
      Client: FailFastClient,
      // Fail fast when the database is unreachable or stalled rather than queueing requests forever.
      connectionTimeoutMillis: postgresTimeouts.connectMs,
      query_timeout: postgresTimeouts.queryMs,
      statement_timeout: postgresTimeouts.statementMs,
      lock_timeout: postgresTimeouts.lockMs,
      idle_in_transaction_session_timeout: postgresTimeouts.idleInTransactionMs,
      // TCP keep-alive: a connection whose peer vanished without a word is eventually reported dead
      // by the kernel even when idle (a busy one is destroyed at its first timed-out statement).
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client losing its connection (database restart) emits 'error' on the pool; without a
    // listener Node would crash the process. The next query simply opens a new connection.
    pool.on('error', () => {});
    // A client in use when the server goes away also emits 'error' (besides failing its query); with
    // no listener that event would crash the process. The failed query already reports the problem
    // (503 to the caller), so the event itself is ignored. Found by test/http/faults.test.ts.
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const databaseUrl = options.databaseUrl;
    let closed = false;
    return {
      db,
      dialect: 'postgres',
      withoutTimeouts: async (work) => {
        const own = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 1, types: pgTypes }) }) });
        try {
          return await work(own);
        } finally {
          await own.destroy();
        }
      },
      // A stalled server never answers the pool's goodbyes: closing does not wait for them.
      close: async () => {
        if (closed) return;
        closed = true;
        await settledWithin(db.destroy(), postgresTimeouts.queryMs);
      },
    };
  }
  const file = options.sqliteFile ?? ':memory:';
  const onDisk = file !== ':memory:';
  // The database holds session data: owner only (0600) in a folder we create 0700. SQLite creates
  // -wal and -shm with the mode of the database file, so the file exists with 0600 before SQLite
  // opens it; files left by an earlier start with looser modes are tightened too.
  const sqliteFiles = [file, `${file}-wal`, `${file}-shm`];
  if (onDisk) {
    makePrivateDir(path.dirname(file));
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    restrictToOwner(sqliteFiles);
  }
  const sqlite = new SQLite(file);
  // WAL lets readers proceed during a write; busy_timeout waits for another process's write lock
  // (the CLI, a second worker) instead of failing at once; foreign keys are off by default in SQLite.
  // synchronous=FULL: with NORMAL, WAL mode fsyncs only at checkpoints, so the last transactions
  // before a power loss can vanish, and a revocation we acknowledged would come back (a revoked
  // session accepted again). FULL fsyncs the WAL at each commit; its cost is in docs/BENCHMARKS.md.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.sqliteSynchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  if (onDisk) restrictToOwner(sqliteFiles);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  let closed = false;
  return {
    db,
    dialect: 'sqlite',
    withoutTimeouts: (work) => work(db),
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** Distinct SQL texts kept prepared; Kysely builds the same few texts over and over. */
const STATEMENT_CACHE_SIZE = 200;

/**
 * Kysely's SQLite driver prepares every query anew; SQLite then parses and plans the same text each
 * time (a tenth of a `GET /sessions`, docs/BENCHMARKS.md). Prepared statements are reusable: they
 * run synchronously to completion, so no two uses overlap. Bounded: texts that vary (IN lists of
 * different lengths) evict the oldest.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (text: string) => {
      let statement = statements.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

export function createMigrator(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: migrationProvider, migrationTableName: 'sessiond_migrations', migrationLockTableName: 'sessiond_migrations_lock' });
}

/** Applies every pending migration on a connection without the request timeouts (DatabaseHandle.withoutTimeouts). */
export function migrateDatabase(database: DatabaseHandle): Promise<string[]> {
  return database.withoutTimeouts((db) => migrateToLatest(db));
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const { error, results } = await createMigrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a migration may throw a non-Error: String() is all there is to say
    throw new Error(`Migration ${failed ?? '(unknown)'} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
