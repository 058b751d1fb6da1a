/**
 * `npm run bench:scale`: does sessiond keep its speed with 1,000,000 sessions of 100,000 users?
 * Seeds (or reuses) the database of bench:seed, then measures the session check, the session list
 * and the count on a small PostgreSQL database and on the seeded one in the same invocation (the
 * target: within 20 % of the small-database figures), then captures the query plans (bench/plans.ts).
 * Writes the sections `scale` and `plans` of docs/BENCHMARKS.md. Seeding takes a few minutes the
 * first time; a measured run about 5 more.
 *
 *   npm run bench:scale [-- --seconds 10 --warmup 10 --no-write --force-seed]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../packages/server/src/config.ts';
import { expectOk, sessiondFixtures, sessiondLogin, type SessiondSession } from './lib/fixtures.ts';
import type { LoadSpec } from './lib/load.ts';
import { hasTaskset, pinSelfToLoadCore, pool, startServer, type ServerProcess } from './lib/processes.ts';
import { postgresProblem, postgresVersion, scratchDatabase } from './lib/postgres.ts';
import { benchRedis } from './lib/redis.ts';
import { benchSession, loadOptions, type Measured } from './lib/runner.ts';
import { fmt, machineLine, replaceSection, table, today } from './lib/report.ts';
import { runPlans } from './plans.ts';
import { SCALE_DATABASE, seed, seedEmail } from './seed.ts';

pinSelfToLoadCore();

const { values: args } = parseArgs({
  options: {
    ...loadOptions,
    users: { type: 'string', default: '100000' },
    sessions: { type: 'string', default: '1000000' },
    'force-seed': { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
const connections = Number(args.connections);
const session = benchSession('scale', { warmupSeconds: warmup, seconds });
const { tmp, log } = session;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function measure(server: ServerProcess, label: string, spec: LoadSpec): Promise<Measured> {
  return (await session.measure(server, [{ label, spec }]))[0]!;
}

const SCENARIOS = ['check', 'list', 'count', 'listSeeded'] as const;
type Scenario = (typeof SCENARIOS)[number];
const titles: Record<Scenario, string> = {
  check: 'Session check: `GET /sessions/validate/{id}`',
  list: '`GET /sessions` (user with 3 sessions)',
  count: '`GET /sessions/count` (same user)',
  listSeeded: '`GET /sessions` of seeded users (≈ 5 live of 10)',
};

/**
 * One database: sign in `connections` users (on the seeded database: seeded users, so their
 * sessions sit among the million), one user with 3 sessions, then measure.
 */
async function measureDatabase(label: string, database: { name: string; url: string }, seeded: boolean, redisUrl: string | undefined): Promise<Partial<Record<Scenario, Measured>>> {
  const env = { DATA_DIR: path.join(tmp, label), DATABASE_URL: database.url, LOG_LEVEL: defaultConfig.logLevel, RATE_LIMIT: 'off', ...(redisUrl ? { REDIS_URL: redisUrl } : {}) };
  const server = await startServer({ name: `sessiond-${label}`, entry: 'bench/servers/sessiond.ts', env, readyPath: '/health', logDir: tmp, postgresDatabase: database.name });
  try {
    log(`${label}: signing in the bench users`);
    const fixtures = await sessiondFixtures(server.baseUrl, seeded ? 0 : connections);
    const checkSessions: SessiondSession[] = seeded
      ? await pool(Array.from({ length: connections }, (_, i) => seedEmail(i * 997)), 4, (email) => sessiondLogin(server.baseUrl, email))
      : fixtures.sessions;
    // Seeded users as they are (their own sessions, most of them from the seed): 50 of them.
    const seededList = seeded ? checkSessions : undefined;
    const s = checkSessions[0]!;
    await expectOk(`${server.baseUrl}/sessions/validate/${s.sessionId}`, bearer(s.accessToken), (j) => j.valid === true, 'validate');
    await expectOk(`${server.baseUrl}/sessions`, bearer(fixtures.listUser[0]!.accessToken), (j) => j.data?.length === 3, 'list');
    const base = server.baseUrl;
    const out: Partial<Record<Scenario, Measured>> = {};
    out.check = await measure(server, `${label} check`, { baseUrl: base, connections, requests: checkSessions.map((x) => ({ path: `/sessions/validate/${x.sessionId}`, headers: bearer(x.accessToken) })) });
    out.list = await measure(server, `${label} list`, { baseUrl: base, connections, requests: fixtures.listUser.map((x) => ({ path: '/sessions', headers: bearer(x.accessToken) })) });
    out.count = await measure(server, `${label} count`, { baseUrl: base, connections, requests: fixtures.listUser.map((x) => ({ path: '/sessions/count', headers: bearer(x.accessToken) })) });
    if (seededList) out.listSeeded = await measure(server, `${label} list (seeded users)`, { baseUrl: base, connections, requests: seededList.map((x) => ({ path: '/sessions', headers: bearer(x.accessToken) })) });
    return out;
  } finally {
    await server.stop();
  }
}

async function main() {
  const problem = await postgresProblem();
  if (problem) throw new Error(`bench:scale needs PostgreSQL: ${problem}`);
  log('seeding (or reusing) the database at scale');
  const seeded = await seed({ users: Number(args.users), sessions: Number(args.sessions), database: SCALE_DATABASE, force: args['force-seed'] });

  const redis = await benchRedis();
  const redisUrl = redis.url;
  const small = await scratchDatabase('sessiond_bench_small');
  let smallResults: Partial<Record<Scenario, Measured>>;
  try {
    smallResults = await measureDatabase('small', small, false, redisUrl);
  } finally {
    await small.drop();
  }
  const bigResults = await measureDatabase('1M', { name: SCALE_DATABASE, url: seeded.url }, true, redisUrl);

  log('query plans (bench/plans.ts)');
  const plans = await runPlans({ database: SCALE_DATABASE, log });

  const rows = SCENARIOS.filter((s) => bigResults[s]).map((s) => {
    const big = bigResults[s]!;
    const smallOne = smallResults[s];
    const change = smallOne ? big.result.requestsPerSecond / smallOne.result.requestsPerSecond - 1 : Number.NaN;
    const verdict = !smallOne ? '(no small-database counterpart)' : change >= -0.2 ? `within 20 %: **met**` : `short: ${fmt(-change * 100)} % slower`;
    return [
      titles[s] + (big.result.failures ? ` ⚠ ${big.result.failures} failed` : ''),
      smallOne ? fmt(smallOne.result.requestsPerSecond) : '',
      smallOne ? `${fmt(smallOne.result.p50Ms, 2)} / ${fmt(smallOne.result.p99Ms, 2)}` : '',
      fmt(big.result.requestsPerSecond),
      `${fmt(big.result.p50Ms, 2)} / ${fmt(big.result.p99Ms, 2)}`,
      Number.isFinite(change) ? `${change >= 0 ? '+' : ''}${fmt(change * 100)} %` : '',
      verdict,
      `${fmt(big.cpu.serverPercent)} / ${fmt(big.cpu.postgresPercent)} / ${fmt(big.cpu.otherPercent)}`,
    ];
  });
  const text = [
    `Run ${today()}: \`npm run bench:scale\`${process.argv.length > 2 ? ` (arguments: \`${process.argv.slice(2).join(' ')}\`)` : ''}.`,
    '',
    `- Machine: ${machineLine()}; PostgreSQL ${await postgresVersion()} (not pinned).`,
    `- Database at scale: \`${SCALE_DATABASE}\`, ${fmt(seeded.sessions)} sessions (${fmt(seeded.liveSessions)} live, the rest revoked or idle-ended history) of ${fmt(seeded.users)} users, seeded by \`npm run bench:seed\`${seeded.reused ? ' (reused from an earlier run)' : ` in ${fmt(seeded.seconds)} s`}.`,
    `- Small database: a fresh one holding only the benchmark's own users. Same server settings as \`npm run bench\` (PostgreSQL mode; ${redis.text}), autocannon ${connections} connections, ${warmup} s warm-up + ${seconds} s measured, ${hasTaskset ? 'generator on core 0, server on core 1' : 'not pinned'}.`,
    `- On the seeded database the check uses ${connections} seeded users signed in afresh (their new session among the million); the list and count use a new user with 3 sessions, like the small database; the last row lists seeded users' own sessions.`,
    '',
    table(['Scenario', 'small: req/s', 'small: p50 / p99 ms', '1M: req/s', '1M: p50 / p99 ms', 'change', 'Target (within 20 %)', '1M: server / pg / other CPU %'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'r']),
  ].join('\n');
  console.log(`\n${text}\n`);
  if (!args['no-write']) {
    replaceSection('scale', text);
    replaceSection('plans', plans);
    log('written to docs/BENCHMARKS.md');
  }
}

await session.run(main);
