import crypto from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL databases of the benchmark, on the machine's server (the same one the tests use):
 * BENCH_POSTGRES_URL, else TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test.
 * Scenario databases are created fresh and dropped afterwards; the 1M-session database of
 * bench:seed / bench:scale is kept (it takes a while to build).
 */
export const adminUrl = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** null when PostgreSQL answers, else why not. */
export async function postgresProblem(): Promise<string | null> {
  try {
    await admin((c) => c.query('select 1'));
    return null;
  } catch (error) {
    return (error as Error).message || String(error);
  }
}

const NAME = /^[a-z_][a-z0-9_]*$/;

export async function createDatabase(name: string): Promise<string> {
  if (!NAME.test(name)) throw new Error(`bad database name ${name}`);
  await admin((c) => c.query(`create database ${name}`));
  return databaseUrl(name);
}

export async function dropDatabase(name: string): Promise<void> {
  if (!NAME.test(name)) throw new Error(`bad database name ${name}`);
  await admin((c) => c.query(`drop database if exists ${name} with (force)`));
}

export async function databaseExists(name: string): Promise<boolean> {
  return admin(async (c) => (await c.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1);
}

/** A fresh, uniquely named database; returns its URL and a function that drops it. */
export async function scratchDatabase(prefix: string): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${crypto.randomBytes(4).toString('hex')}`;
  const url = await createDatabase(name);
  return { name, url, drop: () => dropDatabase(name) };
}

/** PostgreSQL's version string, for the report. */
export async function postgresVersion(): Promise<string> {
  return admin(async (c) => String((await c.query('show server_version')).rows[0].server_version));
}
