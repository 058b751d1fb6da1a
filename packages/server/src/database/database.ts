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
  /** Closes the pool or file; safe to call twice. */
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://… for PostgreSQL; unset for SQLite. */
  databaseUrl?: string | undefined;
  /** SQLite file path, or ':memory:'. Used when databaseUrl is unset. */
  sqliteFile?: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
}

// int8 (bigint, COUNT(*)) arrives as a string by default; our integers are epoch milliseconds and
// counts, far below 2^53, so a Number is exact. Scoped to our pool, not set globally on `pg`.
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      types: pgTypes,
      // Fail fast when the database is unreachable rather than queueing requests forever.
      connectionTimeoutMillis: 5000,
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
    let closed = false;
    return {
      db,
      dialect: 'postgres',
      close: async () => {
        if (closed) return;
        closed = true;
        await db.destroy();
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
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  if (onDisk) restrictToOwner(sqliteFiles);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  let closed = false;
  return {
    db,
    dialect: 'sqlite',
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
      return statement as unknown as ReturnType<SqliteDatabase['prepare']>;
    },
  };
}

export function createMigrator(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: migrationProvider, migrationTableName: 'sessiond_migrations', migrationLockTableName: 'sessiond_migrations_lock' });
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const { error, results } = await createMigrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`Migration ${failed ?? '(unknown)'} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
