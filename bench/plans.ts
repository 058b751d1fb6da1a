/**
 * `npm run bench:plans`: the query plan of every SQL statement the service makes, to show that
 * each one is index-backed, written into docs/BENCHMARKS.md (section `plans`).
 *
 *   npm run bench:plans [-- --database sessiond_bench_1m] [--no-write]
 *
 * The statements are not listed by hand: the whole service (buildApp, the real stores) runs a flow
 * that touches every feature (sign-up, sign-in, me, list, count, validate, activity, refresh and its
 * grace replay, revoke, revoke-all, logout, the session limit's transaction, a password rehash, an
 * app's start with its first revocation-feed poll, the sweeper), and a Kysely plugin records each statement as it is compiled, with
 * its parameters. A statement added to a store later is captured the same way. Then:
 * - PostgreSQL: `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)` with the recorded parameters, each inside a
 *   transaction that is rolled back, on the 1M-session database of bench:seed (when it exists,
 *   else on a fresh one, which says less);
 * - SQLite: `EXPLAIN QUERY PLAN` of the same flow's statements on a fresh file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import pg from 'pg';
import { buildApp } from '../packages/server/src/app.ts';
import { defaultConfig, type AppConfig } from '../packages/server/src/config.ts';
import { openDatabase, type DatabaseHandle } from '../packages/server/src/database/database.ts';
import { generateKeyMaterial } from '../packages/server/src/tokens/key-store.ts';
import { BENCH_PASSWORD, DEVICES } from './lib/fixtures.ts';
import { databaseExists, databaseUrl, scratchDatabase } from './lib/postgres.ts';
import { isMain, replaceSection, today } from './lib/report.ts';
import { SCALE_DATABASE } from './seed.ts';

interface Captured {
  sql: string;
  parameters: readonly unknown[];
  /** The flow steps during which the statement ran. */
  steps: Set<string>;
}

/** Records every statement compiled through the database it is plugged into. */
class StatementRecorder implements KyselyPlugin {
  readonly statements = new Map<string, Captured>();
  step = '(start)';
  recording = false;

  constructor(private readonly compile: (node: RootOperationNode, queryId: PluginTransformQueryArgs['queryId']) => { sql: string; parameters: readonly unknown[] }) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.recording) {
      const { sql, parameters } = this.compile(args.node, args.queryId);
      const known = this.statements.get(sql);
      if (known) known.steps.add(this.step);
      else this.statements.set(sql, { sql, parameters, steps: new Set([this.step]) });
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** A clock the flow can move (activity writes are throttled to one a minute). */
function movableClock() {
  let offsetMs = 0;
  return { now: () => Date.now() + offsetMs, advance: (ms: number) => void (offsetMs += ms) };
}

/** Runs the flow against `handle`, returning every statement the service made. */
export async function captureStatements(handle: DatabaseHandle, databaseUrlForApp: string | undefined): Promise<Captured[]> {
  const executor = handle.db.getExecutor();
  const recorder = new StatementRecorder((node, queryId) => executor.compileQuery(node, queryId));
  const recorded: DatabaseHandle = { ...handle, db: handle.db.withPlugin(recorder), close: async () => {} };
  const clock = movableClock();
  const keys = generateKeyMaterial(clock.now());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-plans-'));
  const config = (overrides: Partial<AppConfig> = {}): AppConfig => ({
    ...defaultConfig,
    dataDir,
    databaseUrl: databaseUrlForApp,
    logLevel: 'silent',
    rateLimit: { ...defaultConfig.rateLimit, enabled: false },
    purgeIntervalSeconds: 0,
    // The feed polls once when an app starts (recorded under that step) and not again by timer
    // during the flow, so every other statement is recorded under the step that really made it.
    revocationPollIntervalMs: 60_000,
    ...overrides,
  });
  const apps: FastifyInstance[] = [];
  const start = async (overrides: Partial<AppConfig> = {}) => {
    const current = recorder.step;
    recorder.step = 'app start (migration check, first revocation-feed poll)';
    const app = await buildApp(config(overrides), { database: recorded, keys, clock });
    recorder.step = current;
    apps.push(app);
    return app;
  };
  const step = (name: string) => {
    recorder.step = name;
  };
  const call = async (app: FastifyInstance, method: 'GET' | 'POST' | 'DELETE', url: string, options: { token?: string; body?: unknown; userAgent?: string; expect?: number } = {}) => {
    const res = await app.inject({
      method,
      url,
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(options.userAgent ? { 'user-agent': options.userAgent } : {}) },
      ...(options.body !== undefined ? { payload: options.body as object } : {}),
    });
    const expected = options.expect ?? (method === 'POST' && url === '/auth/register' ? 201 : method === 'POST' && url === '/auth/logout' ? 204 : 200);
    if (res.statusCode !== expected) throw new Error(`plans flow: ${method} ${url} answered ${res.statusCode} ${res.body.slice(0, 300)}`);
    return res.statusCode === 204 ? {} : (res.json() as Record<string, any>);
  };

  try {
    const app = await start();
    recorder.recording = true;
    const email = `plans-${Date.now()}@bench.example`;
    step('POST /auth/register');
    const laptop = await call(app, 'POST', '/auth/register', { body: { email, password: BENCH_PASSWORD, name: 'Plans' }, userAgent: DEVICES[0] });
    step('POST /auth/login');
    const phone = await call(app, 'POST', '/auth/login', { body: { email, password: BENCH_PASSWORD }, userAgent: DEVICES[1] });
    await call(app, 'POST', '/auth/login', { body: { email, password: 'wrong password here' }, expect: 401 });
    step('GET /auth/me');
    await call(app, 'GET', '/auth/me', { token: laptop.accessToken });
    step('GET /sessions');
    await call(app, 'GET', '/sessions?page=1&limit=20', { token: laptop.accessToken });
    step('GET /sessions/count');
    await call(app, 'GET', '/sessions/count', { token: laptop.accessToken });
    step('GET /sessions/validate/{id}');
    await call(app, 'GET', `/sessions/validate/${phone.sessionId}`, { token: laptop.accessToken });
    step('session check, activity write (lastActiveAt)');
    clock.advance(2 * 60_000);
    await call(app, 'GET', '/sessions/count', { token: laptop.accessToken });

    step('session check, cache miss (another process)');
    const second = await start();
    await call(second, 'GET', '/sessions/count', { token: phone.accessToken });

    step('POST /auth/refresh');
    const refreshed = await call(app, 'POST', '/auth/refresh', { body: { refreshToken: laptop.refreshToken } });
    step('POST /auth/refresh (grace replay)');
    await call(app, 'POST', '/auth/refresh', { body: { refreshToken: laptop.refreshToken } });

    step('DELETE /sessions/{id}');
    await call(app, 'DELETE', `/sessions/${phone.sessionId}`, { token: refreshed.accessToken });
    step('POST /auth/login');
    await call(app, 'POST', '/auth/login', { body: { email, password: BENCH_PASSWORD }, userAgent: DEVICES[2] });
    step('DELETE /sessions?keepCurrent=true');
    await call(app, 'DELETE', '/sessions?keepCurrent=true', { token: refreshed.accessToken });
    step('POST /auth/logout');
    await call(app, 'POST', '/auth/logout', { token: refreshed.accessToken });

    step('sign-in at the session limit (transaction)');
    const limited = await start({ maxSessionsPerUser: 2, sessionLimitMode: 'evict' });
    for (let i = 0; i < 3; i++) await call(limited, 'POST', '/auth/login', { body: { email, password: BENCH_PASSWORD } });

    step('sign-in with changed hashing parameters (rehash)');
    const rehashing = await start({ passwordHashing: { ...defaultConfig.passwordHashing, timeCost: defaultConfig.passwordHashing.timeCost + 1 } });
    await call(rehashing, 'POST', '/auth/login', { body: { email, password: BENCH_PASSWORD } });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the rehash is written in the background

    step('sweeper (expire, purge)');
    // Small batches: on the seeded database this changes at most a handful of rows.
    await app.sessiond.sessions.sweep({ retentionMs: defaultConfig.sessionHistoryRetentionSeconds * 1000, batchSize: 10, maxBatches: 1 });
    recorder.recording = false;
  } finally {
    recorder.recording = false;
    for (const app of apps) await app.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return [...recorder.statements.values()];
}

export interface Plan {
  statement: Captured;
  plan: string;
  /** false when a table is read without an index. */
  indexed: boolean;
  note?: string;
}

/** Plan lines that read a table without an index. */
const POSTGRES_FULL_SCAN = /Seq Scan on (sessions|users)\b/;
const SQLITE_FULL_SCAN = /\bSCAN (sessions|users)\b(?! USING (COVERING )?INDEX)/;

export async function explainPostgres(url: string, statements: Captured[]): Promise<Plan[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const plans: Plan[] = [];
  try {
    for (const statement of statements) {
      let plan: string;
      let note: string | undefined;
      try {
        await client.query('begin');
        const { rows } = await client.query(`explain (analyze, buffers, costs off) ${statement.sql}`, statement.parameters as unknown[]);
        plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      } catch (error) {
        // e.g. the recorded INSERT's key exists now (the flow already ran it): plan without running.
        await client.query('rollback');
        await client.query('begin');
        const { rows } = await client.query(`explain (costs off) ${statement.sql}`, statement.parameters as unknown[]);
        plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        note = `planned, not executed (${(error as Error).message})`;
      } finally {
        await client.query('rollback');
      }
      plans.push({ statement, plan, indexed: !POSTGRES_FULL_SCAN.test(plan), ...(note ? { note } : {}) });
    }
  } finally {
    await client.end();
  }
  return plans;
}

export function explainSqlite(file: string, statements: Captured[]): Plan[] {
  const db = new SQLite(file, { readonly: true });
  try {
    return statements.map((statement) => {
      const rows = db.prepare(`explain query plan ${statement.sql}`).all(...(statement.parameters as unknown[])) as Array<{ id: number; parent: number; detail: string }>;
      const depth = new Map<number, number>([[0, -1]]);
      const lines = rows.map((r) => {
        const d = (depth.get(r.parent) ?? -1) + 1;
        depth.set(r.id, d);
        return `${'  '.repeat(d)}${r.detail}`;
      });
      const plan = lines.join('\n') || '(no table access)';
      return { statement, plan, indexed: !SQLITE_FULL_SCAN.test(plan) };
    });
  } finally {
    db.close();
  }
}

const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();
const short = (sql: string, max = 110) => {
  const s = oneLine(sql).replaceAll('"', '');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};
/** The plan lines that say how tables are reached. */
const accessLines = (plan: string) =>
  plan
    .split('\n')
    .map((l) => l.trim().replace(/^->\s*/, ''))
    .filter((l) => /(Scan|SEARCH|SCAN|Insert on|Update on|Delete on|Result|LockRows)/.test(l) && !/^(Planning|Execution)/.test(l))
    .map((l) => l.replace(/\s*\(actual.*$/, ''))
    .slice(0, 3)
    .join('; ');

export function plansSection(options: { postgres?: { plans: Plan[]; where: string }; sqlite?: { plans: Plan[] } }): string {
  const out: string[] = [`Captured ${today()} by \`npm run bench:plans\` (bench/plans.ts): every statement the service made during a flow through all its features.`, ''];
  const pg = options.postgres;
  if (pg) {
    const full = pg.plans.filter((p) => !p.indexed);
    out.push(`**PostgreSQL**, ${pg.where}: ${pg.plans.length} distinct statements, ${full.length === 0 ? '**all index-backed** (no sequential scan of `sessions` or `users`)' : `${full.length} NOT index-backed`}.`, '');
    out.push('| # | Run by | Statement | How the tables are reached | Execution |', '| ---: | --- | --- | --- | ---: |');
    pg.plans.forEach((p, i) => {
      const time = /Execution Time: ([\d.]+ ms)/.exec(p.plan)?.[1] ?? (p.note ? 'not run' : '');
      out.push(`| ${i + 1} | ${[...p.statement.steps].join(', ')} | \`${short(p.statement.sql).replaceAll('|', '\\|')}\` | ${p.indexed ? '' : '⚠ '}${accessLines(p.plan).replaceAll('|', '\\|')} | ${time} |`);
    });
    out.push('', '<details><summary>The PostgreSQL plans in full</summary>', '');
    pg.plans.forEach((p, i) => {
      out.push(`${i + 1}. ${[...p.statement.steps].join(', ')}${p.note ? ` (${p.note})` : ''}`, '', '```sql', oneLine(p.statement.sql), '```', '```', p.plan, '```', '');
    });
    out.push('</details>', '');
  }
  const lite = options.sqlite;
  if (lite) {
    const full = lite.plans.filter((p) => !p.indexed);
    out.push(`**SQLite** (fresh file, \`EXPLAIN QUERY PLAN\`): ${lite.plans.length} distinct statements, ${full.length === 0 ? '**all index-backed**' : `${full.length} NOT index-backed`}.`, '');
    out.push('| # | Run by | Statement | Plan |', '| ---: | --- | --- | --- |');
    lite.plans.forEach((p, i) => {
      out.push(`| ${i + 1} | ${[...p.statement.steps].join(', ')} | \`${short(p.statement.sql).replaceAll('|', '\\|')}\` | ${p.indexed ? '' : '⚠ '}${p.plan.split('\n').map((l) => l.trim()).join('; ').replaceAll('|', '\\|')} |`);
    });
  }
  return out.join('\n');
}

/** Both backends: PostgreSQL on `database` (the seeded one by default), SQLite on a fresh file. */
export async function runPlans(options: { database?: string; log?: (line: string) => void } = {}) {
  const log = options.log ?? ((line: string) => console.error(line));
  const name = options.database ?? SCALE_DATABASE;
  let postgres: { plans: Plan[]; where: string } | undefined;
  let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  try {
    let url: string;
    let where: string;
    if (await databaseExists(name)) {
      url = databaseUrl(name);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query('select (select count(*) from sessions) as sessions, (select count(*) from users) as users');
      await client.end();
      where = `database \`${name}\` (${Number(rows[0].sessions).toLocaleString('en-US')} sessions, ${Number(rows[0].users).toLocaleString('en-US')} users)`;
    } else {
      log(`${name} does not exist (run npm run bench:seed): planning on an empty database instead`);
      scratch = await scratchDatabase('sessiond_plans');
      url = scratch.url;
      where = 'a fresh, nearly empty database (bench:seed not run; plans on empty tables say little)';
    }
    log(`plans: running the flow on PostgreSQL (${where})`);
    const handle = openDatabase({ databaseUrl: url });
    try {
      const statements = await captureStatements(handle, url);
      postgres = { plans: await explainPostgres(url, statements), where };
    } finally {
      await handle.close();
    }
  } finally {
    await scratch?.drop();
  }

  log('plans: running the flow on SQLite');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-plans-sqlite-'));
  let sqlite: { plans: Plan[] };
  try {
    const file = path.join(dir, 'plans.sqlite');
    const handle = openDatabase({ sqliteFile: file });
    try {
      const statements = await captureStatements(handle, undefined);
      sqlite = { plans: explainSqlite(file, statements) };
    } finally {
      await handle.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return plansSection({ postgres, sqlite });
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { database: { type: 'string', default: SCALE_DATABASE }, 'no-write': { type: 'boolean', default: false } } });
  const section = await runPlans({ database: values.database });
  console.log(section);
  if (!values['no-write']) {
    replaceSection('plans', section);
    console.error('written to docs/BENCHMARKS.md');
  }
}
