/**
 * Micro-benchmark: what verifying one access token costs with each candidate.
 *
 *   node --import tsx bench/jwt-libs.ts [--write]     (npm run bench:jwt; `npm run bench` runs it too)
 *
 * Every candidate verifies the same production token (EdDSA, kid, typ at+jwt, iss, aud, exp, sid)
 * with the same checks where the library can make them, one call after another on one core: the
 * numbers are the per-request cost the authenticate hook pays, not a throughput under concurrency.
 */
import crypto from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { jwtVerify } from 'jose';
import { createPasswordHasher } from '../packages/server/src/auth/password-hasher.ts';
import { defaultConfig } from '../packages/server/src/config.ts';
import { createAccessTokens } from '../packages/server/src/tokens/access-tokens.ts';
import { generateKeyMaterial } from '../packages/server/src/tokens/key-store.ts';
import { fmt, isMain, machineLine, replaceSection, table, today } from './lib/report.ts';

export interface JwtCase {
  name: string;
  note: string;
  opsPerSecond: number;
}

/** One verification's latency with libuv's pool idle, and while it is full of password hashes. */
export interface PoolCase {
  name: string;
  idleMs: number;
  busyMs: number;
}

export interface JwtResults {
  throughput: JwtCase[];
  pool: PoolCase[];
  poolSize: number;
}

interface Candidate {
  name: string;
  note: string;
  run: () => unknown;
}

/** Runs `fn` for about `ms` milliseconds (awaiting it when it returns a promise); calls per second. */
async function measure(fn: () => unknown, ms: number): Promise<number> {
  let calls = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    // 200 calls between clock reads keeps the timer out of the measurement.
    for (let i = 0; i < 200; i++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
    calls += 200;
    elapsed = performance.now() - started;
  }
  return (calls / elapsed) * 1000;
}

export async function runJwtLibs(options: { roundMs?: number; rounds?: number; log?: (line: string) => void } = {}): Promise<JwtResults> {
  const roundMs = options.roundMs ?? 1000;
  const rounds = options.rounds ?? 3;
  const log = options.log ?? (() => {});
  const now = Date.now();
  const clock = { now: () => Date.now() };
  const keys = generateKeyMaterial(now);
  const tokenOptions = { issuer: 'sessiond', audience: 'sessiond', ttlSeconds: 900 };
  const issuer = createAccessTokens(keys, tokenOptions, clock);
  const { token } = await issuer.issue(crypto.randomUUID(), crypto.randomUUID(), { authMethod: 'password' });
  const signing = keys.signingKeys[0]!;
  const publicKey = crypto.createPublicKey({ key: signing.privateJwk, format: 'jwk' });
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const [h, p, s] = token.split('.') as [string, string, string];
  const signingInput = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');

  const joseOptions = {
    algorithms: ['EdDSA'],
    issuer: 'sessiond',
    audience: 'sessiond',
    typ: 'at+jwt',
    requiredClaims: ['exp', 'iat', 'sub', 'sid'],
  };
  const keyByKid = new Map([[signing.kid, publicKey]]);
  const fastJwtCommon = {
    algorithms: ['EdDSA' as const],
    allowedIss: 'sessiond',
    allowedAud: 'sessiond',
    requiredClaims: ['exp', 'iat', 'sub', 'sid'],
  };
  // fast-jwt has no `typ` check: a caller must look at the header itself (complete: true).
  const fastNoCache = createVerifier({ ...fastJwtCommon, key: publicPem, complete: true });
  const fastCache = createVerifier({ ...fastJwtCommon, key: publicPem, complete: true, cache: 10_000 });
  const fastCacheIdentityKey = createVerifier({ ...fastJwtCommon, key: publicPem, complete: true, cache: 10_000, cacheKeyBuilder: (t: string) => t });
  // Our keys rotate: the key must be chosen by kid, which in fast-jwt means a key function (async).
  const fastCacheKid = createVerifier({
    ...fastJwtCommon,
    complete: true,
    cache: 10_000,
    key: async (decoded: { header: { kid?: string } }) => {
      const key = decoded.header.kid ? keyByKid.get(decoded.header.kid) : undefined;
      if (!key) throw new Error('unknown kid');
      return publicPem;
    },
  });
  const checkTyp = (result: { header: { typ?: string } }) => {
    if (result.header.typ !== 'at+jwt') throw new Error('typ');
    return result;
  };

  const cacheOff = createAccessTokens(keys, { ...tokenOptions, verifiedCacheMaxEntries: 0 }, clock);
  const cacheOn = createAccessTokens(keys, tokenOptions, clock);
  // A cache that never hits: 2,000 distinct tokens through a 1,000-entry cache in a cycle, so every
  // call is a full verification plus an insertion and an eviction (the worst case of the cache).
  const thrashed = createAccessTokens(keys, { ...tokenOptions, verifiedCacheMaxEntries: 1000 }, clock);
  const manyTokens = await Promise.all(Array.from({ length: 2000 }, () => issuer.issue(crypto.randomUUID(), crypto.randomUUID(), { authMethod: 'password' }).then((t) => t.token)));
  let next = 0;

  const candidates: Candidate[] = [
    { name: 'node:crypto Ed25519 verify only', note: 'the signature alone, no JWT parsing or claim checks: the floor of any uncached verifier', run: () => crypto.verify(null, signingInput, publicKey, signature) },
    { name: 'jose jwtVerify, imported KeyObject', note: 'what sessiond did before: full verification on every request', run: () => jwtVerify(token, () => publicKey, joseOptions) },
    { name: 'sessiond verify(), cache off', note: 'jose + our shape, kid and claim checks (verifiedCacheMaxEntries: 0)', run: () => cacheOff.verify(token) },
    { name: 'fast-jwt, no cache (sync)', note: 'PEM key, complete: true for the typ check', run: () => checkTyp(fastNoCache(token)) },
    { name: 'fast-jwt, cache (sync, hashed key)', note: 'its verified-token LRU; default cache key = a hash of the token', run: () => checkTyp(fastCache(token)) },
    { name: 'fast-jwt, cache (sync, token as key)', note: 'cacheKeyBuilder: identity, as the README allows', run: () => checkTyp(fastCacheIdentityKey(token)) },
    { name: 'fast-jwt, cache + key by kid (async)', note: 'what rotation needs: key function, so the verifier returns promises', run: () => fastCacheKid(token).then(checkTyp) },
    { name: 'sessiond verify(), cache miss every time', note: '2,000 tokens cycling through a 1,000-entry cache: full verify + insert + evict', run: () => thrashed.verify(manyTokens[next++ % manyTokens.length]!) },
    { name: 'sessiond verify(), cache hit (chosen)', note: 'jose on first sight; then a Map lookup + exp and key re-check', run: () => cacheOn.verify(token) },
  ];

  const results: JwtCase[] = [];
  for (const c of candidates) {
    await measure(c.run, Math.min(300, roundMs)); // warm-up: JIT, caches
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) samples.push(await measure(c.run, roundMs));
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)]!;
    results.push({ name: c.name, note: c.note, opsPerSecond: median });
    log(`  ${c.name.padEnd(44)} ${fmt(median).padStart(12)} /s  ${fmt(1e6 / median, 2).padStart(8)} µs`);
  }

  // jose verifies through WebCrypto, whose Ed25519 jobs run on libuv's thread pool: the same pool
  // that hashes passwords (@node-rs/argon2). Time one verification while the pool is full.
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const hasher = createPasswordHasher(defaultConfig.passwordHashing);
  const latencyMs = async (fn: () => unknown) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const pool: PoolCase[] = [];
  for (const c of candidates.filter((x) => /^(jose|sessiond verify\(\), cache (off|hit)|fast-jwt, no cache)/.test(x.name))) {
    const idle: number[] = [];
    for (let i = 0; i < 21; i++) idle.push(await latencyMs(c.run));
    const busy: number[] = [];
    for (let i = 0; i < 3; i++) {
      const hashes = Array.from({ length: poolSize }, () => hasher.hash(`password ${i}`));
      await new Promise((resolve) => setTimeout(resolve, 5)); // let the hashes reach the pool
      busy.push(await latencyMs(c.run));
      await Promise.all(hashes);
    }
    pool.push({ name: c.name, idleMs: median(idle), busyMs: median(busy) });
    log(`  ${c.name.padEnd(44)} one call: ${fmt(median(idle), 3)} ms idle, ${fmt(median(busy), 3)} ms while ${poolSize} argon2id hashes run`);
  }
  return { throughput: results, pool, poolSize };
}

export function jwtTable(results: JwtCase[]): string {
  const jose = results.find((r) => r.name.startsWith('jose'))?.opsPerSecond ?? Number.NaN;
  return table(
    ['Verifier', 'verifications/s', 'µs each', 'vs jose', 'What it measures'],
    results.map((r) => [r.name, fmt(r.opsPerSecond), fmt(1e6 / r.opsPerSecond, 2), `${fmt(r.opsPerSecond / jose, 1)}×`, r.note]),
    ['l', 'r', 'r', 'r', 'l'],
  );
}

export function jwtSection(results: JwtResults, command: string): string {
  return [
    `Measured ${today()} on ${machineLine()}; \`${command}\`, median of 3 one-second rounds per verifier, calls in series on one core.`,
    '',
    jwtTable(results.throughput),
    '',
    `One verification's latency (median) with libuv's thread pool idle, and while ${results.poolSize} argon2id hashes (OWASP parameters, as in a burst of sign-ins) fill it (\`UV_THREADPOOL_SIZE\` = ${results.poolSize}):`,
    '',
    table(
      ['Verifier', 'pool idle', `${results.poolSize} hashes running`],
      results.pool.map((p) => [p.name, `${fmt(p.idleMs, 3)} ms`, `${fmt(p.busyMs, 3)} ms`]),
      ['l', 'r', 'r'],
    ),
  ].join('\n');
}

if (isMain(import.meta.url)) {
  console.log('JWT verification, one token, calls in series:');
  const results = await runJwtLibs({ log: console.log });
  if (process.argv.includes('--write')) {
    replaceSection('jwt-libs', jwtSection(results, 'npm run bench:jwt'));
    console.log('written to docs/BENCHMARKS.md');
  }
}
