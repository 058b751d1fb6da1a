/**
 * `npm run bench:seed`: a PostgreSQL database at scale for bench:scale and bench:plans, by default
 * 1,000,000 sessions of 100,000 users in the database `sessiond_bench_1m` (kept between runs).
 *
 *   npm run bench:seed [-- --users 100000 --sessions 1000000 --database sessiond_bench_1m --force]
 *
 * The schema is the service's own (its migrations); rows go in with multi-row INSERT … SELECT FROM
 * unnest($1::text[], …) in batches of 20,000, a progress bar on stderr. The data looks like a month
 * of real use, relative to the moment of seeding (deterministic pseudo-random, seed 42):
 * - every user has the same password (fixtures.BENCH_PASSWORD) under one argon2id hash made with
 *   the service's default parameters, so the benchmark can sign in as any seeded user;
 * - sessions are spread evenly over the users; each started 0 to 29 days ago and was last active
 *   between then and now, from one of three devices;
 * - 20 % were revoked by their user (history, kept for the retention period);
 * - those idle for more than the idle timeout (7 days) are marked ended `idle_timeout`, as the
 *   sweeper would have done; the rest are live.
 * A marker table `bench_seed` records the sizes and the time; an existing database with the same
 * sizes, seeded less than a day ago, is reused (its "live" sessions would otherwise age out).
 */
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPasswordHasher } from '../packages/server/src/auth/password-hasher.ts';
import { defaultConfig } from '../packages/server/src/config.ts';
import { migrateToLatest, openDatabase } from '../packages/server/src/database/database.ts';
import { BENCH_PASSWORD, DEVICES } from './lib/fixtures.ts';
import { createDatabase, databaseExists, databaseUrl, dropDatabase } from './lib/postgres.ts';
import { fmt, isMain } from './lib/report.ts';

export const SCALE_DATABASE = 'sessiond_bench_1m';
export const seedEmail = (i: number) => `seed-${i}@bench.example`;

const DAY_MS = 86_400_000;
const BATCH = 20_000;
const MAX_AGE_MS = 24 * 3600_000;

export interface SeedSummary {
  database: string;
  url: string;
  users: number;
  sessions: number;
  liveSessions: number;
  seededAtMs: number;
  seconds: number;
  reused: boolean;
}

/** mulberry32: a small deterministic PRNG, so two seeds of the same size hold the same shapes. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function progress(label: string, done: number, total: number, startedAt: number) {
  const width = 30;
  const fraction = total === 0 ? 1 : done / total;
  const elapsed = (performance.now() - startedAt) / 1000;
  const rate = done / Math.max(elapsed, 0.001);
  const eta = rate > 0 ? (total - done) / rate : 0;
  const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
  process.stderr.write(`\r${label.padEnd(9)} [${bar}] ${fmt(fraction * 100).padStart(3)} % ${fmt(done).padStart(9)}/${fmt(total)}  ${fmt(rate)} rows/s  ETA ${fmt(eta)} s   `);
  if (done >= total) process.stderr.write('\n');
}

async function readMarker(url: string): Promise<{ users: number; sessions: number; seededAtMs: number; liveSessions: number } | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('select users, sessions, live_sessions, seeded_at from bench_seed');
    const row = rows[0];
    return row ? { users: Number(row.users), sessions: Number(row.sessions), liveSessions: Number(row.live_sessions), seededAtMs: Number(row.seeded_at) } : undefined;
  } catch {
    return undefined; // no marker: an interrupted seed
  } finally {
    await client.end();
  }
}

export async function seed(options: { users: number; sessions: number; database?: string; force?: boolean }): Promise<SeedSummary> {
  const database = options.database ?? SCALE_DATABASE;
  const url = databaseUrl(database);
  const started = performance.now();
  if (!options.force && (await databaseExists(database))) {
    const marker = await readMarker(url);
    if (marker && marker.users === options.users && marker.sessions === options.sessions && Date.now() - marker.seededAtMs < MAX_AGE_MS) {
      process.stderr.write(`${database}: already seeded ${fmt((Date.now() - marker.seededAtMs) / 60_000)} min ago with ${fmt(marker.sessions)} sessions of ${fmt(marker.users)} users; reusing it (--force re-seeds)\n`);
      return { database, url, ...marker, seconds: 0, reused: true };
    }
  }
  await dropDatabase(database);
  await createDatabase(database);
  const handle = openDatabase({ databaseUrl: url });
  await migrateToLatest(handle.db);
  await handle.close();

  const nowMs = Date.now();
  const random = prng(42);
  const passwordHash = await createPasswordHasher(defaultConfig.passwordHashing).hash(BENCH_PASSWORD);
  const idleMs = defaultConfig.sessionIdleTimeoutSeconds * 1000;
  const lifetimeMs = defaultConfig.sessionAbsoluteLifetimeSeconds * 1000;

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Bulk load: no WAL flush per batch (the data is rebuildable); autovacuum catches up later.
    await client.query('set synchronous_commit = off');
    const userIds: string[] = new Array(options.users);
    let t0 = performance.now();
    for (let from = 0; from < options.users; from += BATCH) {
      const n = Math.min(BATCH, options.users - from);
      const ids: string[] = [];
      const emails: string[] = [];
      const created: number[] = [];
      for (let i = from; i < from + n; i++) {
        userIds[i] = crypto.randomUUID();
        ids.push(userIds[i]!);
        emails.push(seedEmail(i));
        created.push(nowMs - 60 * DAY_MS + Math.floor(random() * 30 * DAY_MS));
      }
      await client.query(
        `insert into users (id, email, name, password_hash, created_at)
         select id, email, 'Seed', $3, created from unnest($1::text[], $2::text[], $4::int8[]) as t(id, email, created)`,
        [ids, emails, passwordHash, created],
      );
      progress('users', from + n, options.users, t0);
    }

    let live = 0;
    t0 = performance.now();
    for (let from = 0; from < options.sessions; from += BATCH) {
      const n = Math.min(BATCH, options.sessions - from);
      const cols = {
        id: [] as string[], user: [] as string[], created: [] as number[], last: [] as number[], expires: [] as number[],
        revokedAt: [] as Array<number | null>, reason: [] as Array<string | null>, ip: [] as string[], ua: [] as string[],
        generation: [] as number[], salt: [] as string[],
      };
      for (let i = from; i < from + n; i++) {
        const createdAt = nowMs - Math.floor(random() * 29 * DAY_MS);
        const lastActive = createdAt + Math.floor(random() * (nowMs - createdAt));
        let revokedAt: number | null = null;
        let reason: string | null = null;
        if (random() < 0.2) {
          revokedAt = lastActive + Math.floor(random() * (nowMs - lastActive));
          reason = 'user_revoked';
        } else if (lastActive <= nowMs - idleMs) {
          revokedAt = lastActive + idleMs;
          reason = 'idle_timeout';
        } else {
          live++;
        }
        cols.id.push(crypto.randomUUID());
        cols.user.push(userIds[i % options.users]!);
        cols.created.push(createdAt);
        cols.last.push(lastActive);
        cols.expires.push(createdAt + lifetimeMs);
        cols.revokedAt.push(revokedAt);
        cols.reason.push(reason);
        cols.ip.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
        cols.ua.push(DEVICES[i % DEVICES.length]!);
        cols.generation.push(Math.floor(random() * 20));
        cols.salt.push(crypto.randomBytes(16).toString('base64url'));
      }
      await client.query(
        `insert into sessions (id, user_id, created_at, last_active_at, expires_at, revoked_at, revoke_reason, ip_address, user_agent, refresh_generation, refresh_salt)
         select * from unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::text[], $8::text[], $9::text[], $10::int4[], $11::text[])`,
        [cols.id, cols.user, cols.created, cols.last, cols.expires, cols.revokedAt, cols.reason, cols.ip, cols.ua, cols.generation, cols.salt],
      );
      progress('sessions', from + n, options.sessions, t0);
    }
    process.stderr.write('analyze …\n');
    await client.query('vacuum analyze users');
    await client.query('vacuum analyze sessions');
    await client.query('create table bench_seed (users int8 not null, sessions int8 not null, live_sessions int8 not null, seeded_at int8 not null)');
    await client.query('insert into bench_seed values ($1, $2, $3, $4)', [options.users, options.sessions, live, nowMs]);
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`${database}: ${fmt(options.sessions)} sessions (${fmt(live)} live) of ${fmt(options.users)} users in ${fmt(seconds)} s\n`);
    return { database, url, users: options.users, sessions: options.sessions, liveSessions: live, seededAtMs: nowMs, seconds, reused: false };
  } finally {
    await client.end();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '100000' },
      sessions: { type: 'string', default: '1000000' },
      database: { type: 'string', default: SCALE_DATABASE },
      force: { type: 'boolean', default: false },
    },
  });
  await seed({ users: Number(values.users), sessions: Number(values.sessions), database: values.database, force: values.force });
}
