import crypto from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src/database/database.ts';
import { fastTier, requireFullTier } from './tier.ts';

/**
 * The storage backends every suite runs against. SQLite always; PostgreSQL on the machine's server
 * (TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test). Each PostgreSQL test
 * database is created fresh and dropped afterwards, so files can run in parallel.
 *
 * When PostgreSQL is unreachable: in CI (CI set) the test fails; elsewhere it is skipped, saying so.
 * The fast test tier (npm run test:fast) runs the SQLite half of each suite: PostgreSQL is not in
 * backendNames there, and asking for it fails (helpers/tier.ts).
 */
export type BackendName = 'sqlite' | 'postgres';
export const backendNames: BackendName[] = fastTier ? ['sqlite'] : ['sqlite', 'postgres'];

export const adminPostgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<string | null> | undefined;
/** null when PostgreSQL answers, else the reason it does not. */
function postgresProblem(): Promise<string | null> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: adminPostgresUrl, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (error) {
      return (error as Error).message || String(error);
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/**
 * Creates a fresh empty PostgreSQL database; returns its URL and a function that drops it. For a
 * test that needs PostgreSQL itself (full tier only); suites over both backends use openBackend.
 */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  requireFullTier('PostgreSQL');
  return newPostgresDatabase();
}

async function newPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `sessiond_t_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminPostgresUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminPostgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminPostgresUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface OpenedBackend {
  handle: DatabaseHandle;
  /** Closes (and for PostgreSQL drops) the database; registered with t.after unless deferred. */
  cleanup: () => Promise<void>;
  /** The PostgreSQL URL (for starting a second process on the same database). */
  url?: string;
}

/**
 * Opens an empty database of the given kind for one test, or returns undefined after skipping
 * (outside CI only). Closed and dropped when the test ends.
 */
export async function openBackend(t: TestContext, name: BackendName, options: { deferCleanup?: boolean } = {}): Promise<OpenedBackend | undefined> {
  if (name === 'sqlite') {
    const handle = openDatabase({ sqliteFile: ':memory:' });
    const cleanup = () => handle.close();
    if (!options.deferCleanup) t.after(cleanup);
    return { handle, cleanup };
  }
  // The PostgreSQL half of a fast-tier file's suites runs in the full tier only.
  if (fastTier) throw new Error('PostgreSQL asked for in the fast tier: loop over backendNames, or mark the file `// test-tier: full`');
  const problem = await postgresProblem();
  if (problem) {
    if (process.env.CI) throw new Error(`PostgreSQL is required in CI but unreachable at ${adminPostgresUrl}: ${problem}`);
    t.skip(`PostgreSQL unreachable at ${adminPostgresUrl} (${problem}); skipped outside CI`);
    return undefined;
  }
  const { url, drop } = await newPostgresDatabase();
  const handle = openDatabase({ databaseUrl: url, poolSize: 5 });
  const cleanup = async () => {
    await handle.close();
    await drop();
  };
  if (!options.deferCleanup) t.after(cleanup);
  return { handle, url, cleanup };
}
