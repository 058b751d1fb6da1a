/**
 * `node --import tsx bench/sqlite-durability.ts`: what SQLite's synchronous=FULL (the default since
 * 2026-11-29: an acknowledged revocation survives power loss) costs against NORMAL, on writes only.
 * For each setting, a fresh SQLite file in a temporary folder on the same disk as the worktree, the
 * real app listening on loopback, and `--concurrency` clients (default 8) doing in turn: sign-ins,
 * refreshes and revocations for `--seconds` each (default 5). Prints requests/s per operation.
 * Rate limiting off; argon2id at the production parameters (sign-in is dominated by the hash).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../packages/server/src/app.ts';
import { defaultConfig } from '../packages/server/src/config.ts';
import { openDatabase } from '../packages/server/src/database/database.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const seconds = option('--seconds', 5);
const concurrency = option('--concurrency', 8);
const root = path.resolve(import.meta.dirname, '..');

async function post(url: string, body: unknown, token?: string, method = 'POST') {
  const response = await fetch(url, {
    method,
    headers: { ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: method === 'POST' ? JSON.stringify(body) : undefined,
  });
  const json = (await response.json().catch(() => undefined)) as any;
  if (response.status !== 200 && response.status !== 201) throw new Error(`${method} ${url}: ${response.status}`);
  return json;
}

/** Runs `op` from `concurrency` loops for `seconds`; requests per second. */
async function measure(op: (worker: number) => Promise<void>): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < until) {
        await op(worker);
        done++;
      }
    }),
  );
  return done / seconds;
}

async function run(synchronous: 'full' | 'normal') {
  const dir = fs.mkdtempSync(path.join(root, '.bench-sqlite-'));
  const database = openDatabase({ sqliteFile: path.join(dir, 'sessiond.sqlite'), sqliteSynchronous: synchronous });
  const app = await buildApp({ ...defaultConfig, dataDir: dir, logLevel: 'silent', rateLimit: { ...defaultConfig.rateLimit, enabled: false } }, { database });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  try {
    const users = await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        const email = `bench${i}@example.com`;
        const password = 'correct horse battery staple';
        const first = await post(`${base}/auth/register`, { email, password });
        return { email, password, accessToken: first.accessToken as string, refreshToken: first.refreshToken as string, toRevoke: [] as string[] };
      }),
    );
    const signIn = await measure(async (w) => {
      const u = users[w]!;
      const s = await post(`${base}/auth/login`, { email: u.email, password: u.password });
      u.toRevoke.push(s.sessionId);
    });
    const refresh = await measure(async (w) => {
      const u = users[w]!;
      const next = await post(`${base}/auth/refresh`, { refreshToken: u.refreshToken });
      u.refreshToken = next.refreshToken;
      u.accessToken = next.accessToken;
    });
    const revoke = await measure(async (w) => {
      const u = users[w]!;
      const id = u.toRevoke.pop();
      if (id) await post(`${base}/sessions/${id}`, undefined, u.accessToken, 'DELETE');
      else {
        // Out of sessions to revoke: one more sign-in (counted, rarely reached with the defaults).
        u.toRevoke.push((await post(`${base}/auth/login`, { email: u.email, password: u.password })).sessionId);
      }
    });
    return { synchronous, signIn, refresh, revoke };
  } finally {
    await app.close();
    await database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const synchronous of ['normal', 'full'] as const) results.push(await run(synchronous));
console.log(`${os.cpus().length} cores, ${concurrency} clients, ${seconds} s per operation; requests/s`);
console.log('| synchronous | sign-in | refresh | revoke |\n|---|---|---|---|');
for (const r of results) console.log(`| ${r.synchronous.toUpperCase()} | ${r.signIn.toFixed(0)} | ${r.refresh.toFixed(0)} | ${r.revoke.toFixed(0)} |`);
