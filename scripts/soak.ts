/**
 * `npm run soak`: a bounded soak of the real service on loopback. Runs the app in this process on
 * SQLite (or DATABASE_URL/REDIS_URL when set), drives a mixed load (checks, lists, refreshes,
 * sign-ins, revocations) for SOAK_MINUTES (default 3), samples memory and latency every 10 s, and
 * reports whether heap stayed flat and p99 stable. Not part of `npm test`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../packages/server/src/app.ts';
import { defaultConfig } from '../packages/server/src/config.ts';

const minutes = Number(process.env.SOAK_MINUTES ?? 3);
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 16);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-soak-'));
const app = await buildApp({
  ...defaultConfig,
  dataDir,
  databaseUrl: process.env.DATABASE_URL,
  redisUrl: process.env.REDIS_URL,
  logLevel: 'silent',
  rateLimit: { ...defaultConfig.rateLimit, enabled: false },
  passwordHashing: { memoryCostKib: 4096, timeCost: 1, parallelism: 1 },
  sessionCacheMaxEntries: 5000,
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

async function call(method: string, url: string, body?: unknown, token?: string) {
  const res = await fetch(base + url, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, string> | undefined };
}

const users = await Promise.all(
  Array.from({ length: 20 }, async (_, i) => {
    const r = await call('POST', '/auth/register', { email: `soak${i}@example.com`, password: 'soak password 123' });
    return { email: `soak${i}@example.com`, session: r.body as { sessionId: string; accessToken: string; refreshToken: string } };
  }),
);

let latencies: number[] = [];
let errors5xx = 0;
let requests = 0;
const endAt = Date.now() + minutes * 60_000;

async function worker(id: number) {
  let n = 0;
  while (Date.now() < endAt) {
    const user = users[(id + n++) % users.length]!;
    const started = performance.now();
    let status: number;
    const roll = n % 20;
    if (roll < 12) status = (await call('GET', `/sessions/validate/${user.session.sessionId}`, undefined, user.session.accessToken)).status;
    else if (roll < 16) status = (await call('GET', '/sessions?limit=10', undefined, user.session.accessToken)).status;
    else if (roll < 18) {
      const r = await call('POST', '/auth/refresh', { refreshToken: user.session.refreshToken });
      status = r.status;
      if (r.status === 200) user.session = { ...user.session, ...r.body };
    } else {
      // a new device, then revoke it: sessions churn, caches must not grow without bound
      const r = await call('POST', '/auth/login', { email: user.email, password: 'soak password 123' });
      status = r.status;
      if (r.status === 200) await call('DELETE', `/sessions/${r.body!.sessionId}`, undefined, user.session.accessToken);
    }
    latencies.push(performance.now() - started);
    requests++;
    if (status >= 500) errors5xx++;
  }
}

const samples: Array<{ t: number; heapMb: number; rssMb: number; p99: number; rps: number }> = [];
const sampler = setInterval(() => {
  const sorted = latencies.sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
  // Retained heap, not garbage waiting for collection: collect first (npm run soak passes --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  samples.push({ t: samples.length * 10, heapMb: mem.heapUsed / 2 ** 20, rssMb: mem.rss / 2 ** 20, p99, rps: sorted.length / 10 });
  const last = samples.at(-1)!;
  console.error(`t=${last.t}s rps=${last.rps.toFixed(0)} p99=${last.p99.toFixed(1)}ms heap=${last.heapMb.toFixed(1)}MB rss=${last.rssMb.toFixed(1)}MB`);
  latencies = [];
}, 10_000);

await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
clearInterval(sampler);
await app.close();
fs.rmSync(dataDir, { recursive: true, force: true });

// Compare the second third with the last third (the first is warm-up).
const third = Math.max(1, Math.floor(samples.length / 3));
const mid = samples.slice(third, 2 * third);
const end = samples.slice(-third);
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const heapGrowth = avg(end.map((s) => s.heapMb)) / Math.max(1, avg(mid.map((s) => s.heapMb))) - 1;
const p99Change = avg(end.map((s) => s.p99)) / Math.max(0.001, avg(mid.map((s) => s.p99))) - 1;
console.log(JSON.stringify({ minutes, concurrency, requests, errors5xx, heapGrowthPct: +(heapGrowth * 100).toFixed(1), p99ChangePct: +(p99Change * 100).toFixed(1), samples }, null, 2));
const ok = errors5xx === 0 && heapGrowth < 0.25 && p99Change < 0.5;
console.log(ok ? 'soak: PASS (no 5xx, heap flat within 25%, p99 within 50%)' : 'soak: FAIL');
process.exit(ok ? 0 : 1);
