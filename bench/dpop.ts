/**
 * `npm run bench:dpop`: what device-bound sessions (DPoP, RFC 9449) cost.
 *
 * 1. Proof verification per algorithm, in process: `verifyDpopProof` (the §4.3 checks: jose
 *    jwtVerify with the embedded JWK, the claims, the RFC 7638 thumbprint) on distinct proofs.
 * 2. Under load, servers pinned like `npm run bench` (taskset: server on one core, load on the
 *    other): bare node:http, sessiond's unbound `GET /auth/me` (Bearer, fast path) and its bound
 *    one (`Authorization: DPoP` + a proof per request: full path, one proof verification, the jti
 *    replay check). Every bound request carries its own pre-made proof (single use), so the load
 *    runs as several one-connection generators, each with its own list.
 *
 * Prints a Markdown table; with --write appends it to docs/BENCHMARKS.md.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { verifyDpopProof } from '../packages/server/src/dpop/dpop-proof.ts';
import { runLoads, type LoadResult, type RequestSpec } from './lib/load.ts';
import { pinSelfToLoadCore, startServer } from './lib/processes.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const GENERATORS = 8;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-bench-dpop-'));

async function signer(alg: 'ES256' | 'EdDSA') {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = await exportJWK(publicKey);
  return (claims: Record<string, unknown>) =>
    new SignJWT({ iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ...claims }).setProtectedHeader({ alg, typ: 'dpop+jwt', jwk } as never).sign(privateKey);
}
const ath = (token: string) => crypto.createHash('sha256').update(token).digest('base64url');

async function verificationCost(alg: 'ES256' | 'EdDSA', count = 3000) {
  const sign = await signer(alg);
  const url = 'https://sessions.example.com/auth/me';
  const proofs = await Promise.all(Array.from({ length: count }, () => sign({ htm: 'GET', htu: url, ath: ath('token') })));
  for (const proof of proofs.slice(0, 300)) await verifyDpopProof(proof, { method: 'GET', url, accessToken: 'token', nowMs: Date.now(), iatWindowSeconds: 60 });
  const started = performance.now();
  for (const proof of proofs) await verifyDpopProof(proof, { method: 'GET', url, accessToken: 'token', nowMs: Date.now(), iatWindowSeconds: 60 });
  const usPerProof = ((performance.now() - started) * 1000) / proofs.length;
  return { alg, usPerProof, perSecond: 1e6 / usPerProof };
}

const best = (results: LoadResult[]) => results.reduce((sum, r) => ({ ...r, requestsPerSecond: sum.requestsPerSecond + r.requestsPerSecond, failures: sum.failures + r.failures, total: sum.total + r.total }));

async function main() {
  pinSelfToLoadCore();
  const lines: string[] = [];
  const verification = [await verificationCost('ES256'), await verificationCost('EdDSA')];

  const baseline = await startServer({ name: 'baseline', entry: 'bench/servers/baseline.ts', env: {}, readyPath: '/health', logDir: tmp });
  await runLoads([{ baseUrl: baseline.baseUrl, connections: GENERATORS, requests: [{ path: '/' }] }], 2, false);
  const [bare] = await runLoads([{ baseUrl: baseline.baseUrl, connections: GENERATORS, requests: [{ path: '/' }] }], SECONDS);
  await baseline.stop();

  const server = await startServer({
    name: 'sessiond-dpop',
    entry: 'bench/servers/sessiond.ts',
    env: { DATA_DIR: path.join(tmp, 'data'), LOG_LEVEL: 'warn', RATE_LIMIT: 'off' },
    readyPath: '/health',
    logDir: tmp,
  });
  const base = server.baseUrl;
  const sign = await signer('ES256');
  const register = async (dpop?: string) => {
    const res = await fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(dpop ? { dpop } : {}) },
      body: JSON.stringify({ email: `bench-${crypto.randomUUID()}@example.com`, password: 'bench password 0123456789' }),
    });
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { accessToken: string }).accessToken;
  };
  const plainToken = await register();
  const boundToken = await register(await sign({ htm: 'POST', htu: `${base}/auth/register` }));
  await runLoads([{ baseUrl: base, connections: GENERATORS, requests: [{ path: '/auth/me', headers: { authorization: `Bearer ${plainToken}` } }] }], 2, false);
  const [unbound] = await runLoads([{ baseUrl: base, connections: GENERATORS, requests: [{ path: '/auth/me', headers: { authorization: `Bearer ${plainToken}` } }] }], SECONDS);

  // Proofs for the bound load, made just before it (iat must be within 60 s of use): enough for
  // the measured rate of the unbound check on every generator, so no list wraps around.
  const perGenerator = Math.ceil(((unbound!.requestsPerSecond * (SECONDS + 3)) / GENERATORS) * 1.2);
  const proofList = async (n: number): Promise<RequestSpec[]> =>
    Promise.all(Array.from({ length: n }, async () => ({
      path: '/auth/me',
      headers: { authorization: `DPoP ${boundToken}`, dpop: await sign({ htm: 'GET', htu: `${base}/auth/me`, ath: ath(boundToken) }) },
    })));
  const warm = await Promise.all(Array.from({ length: GENERATORS }, () => proofList(300)));
  await runLoads(warm.map((requests) => ({ baseUrl: base, connections: 1, requests })), 1, false);
  const lists = await Promise.all(Array.from({ length: GENERATORS }, () => proofList(perGenerator)));
  const bound = best(await runLoads(lists.map((requests) => ({ baseUrl: base, connections: 1, requests })), SECONDS));
  await server.stop();

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  lines.push(`### Device-bound sessions (DPoP), ${new Date().toISOString().slice(0, 10)}`, '');
  lines.push(`\`npm run bench:dpop\` (bench/dpop.ts), ${SECONDS} s per scenario, ${GENERATORS} connections; ${os.cpus().length}-core machine shared with other work running at the same time (a loaded machine: absolute figures are low and noisy, the ratios are what to read).`, '');
  lines.push('| Proof verification (in process, `verifyDpopProof`) | µs per proof | proofs/s on one core |', '|---|---:|---:|');
  for (const v of verification) lines.push(`| ${v.alg} | ${v.usPerProof.toFixed(0)} | ${fmt(v.perSecond)} |`);
  lines.push('', '| Under load (server pinned to one core) | req/s | p50 ms | p99 ms | × bare node:http | failures |', '|---|---:|---:|---:|---:|---:|');
  for (const [name, r] of [['bare node:http', bare!], ['`GET /auth/me` unbound (Bearer, fast path)', unbound!], ['`GET /auth/me` bound (DPoP ES256 proof per request, full path)', bound]] as const) {
    lines.push(`| ${name} | ${fmt(r.requestsPerSecond)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${(r.requestsPerSecond / bare!.requestsPerSecond).toFixed(2)} | ${r.failures} |`);
  }
  lines.push('', `The bound row's p50/p99 are those of one of its ${GENERATORS} one-connection generators.`, '');
  const text = lines.join('\n');
  console.log(text);
  if (process.argv.includes('--write')) fs.appendFileSync(path.resolve(import.meta.dirname, '../docs/BENCHMARKS.md'), `\n${text}`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

await main();
