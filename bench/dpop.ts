/**
 * `npm run bench:dpop`: what device-bound sessions (DPoP, RFC 9449) cost.
 *
 * 1. Proof verification per algorithm, in process (the best of many rounds, so a busy machine
 *    inflates it least): the floor, one node:crypto signature verification with the key already
 *    imported; and `verifyDpopProof`, every §4.3 check but replay and nonce around that signature.
 * 2. Under load, servers pinned like `npm run bench` (taskset: server on one core, load on the
 *    other): bare node:http, sessiond's unbound `GET /auth/me` (Bearer, fast path) and its bound
 *    one (`Authorization: DPoP` + a proof per request: full path, one proof verification, the jti
 *    replay check). Every bound request carries its own pre-made proof (single use), so the load
 *    runs as several one-connection generators, each with its own list. Beside req/s, the server's
 *    own CPU time per request (/proc ticks): what a request costs the server whoever limits the
 *    rate (the load generator shares the machine), and from it the ratio a whole core would give.
 *
 * Prints a Markdown table with the load average; with --write appends it to docs/BENCHMARKS.md.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { verifyDpopProof } from '../packages/server/src/dpop/dpop-proof.ts';
import { MemoryReplayCache } from '../packages/server/src/dpop/replay-cache.ts';
import { cpuMeter, runLoads, type LoadResult, type LoadSpec, type RequestSpec } from './lib/load.ts';
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

/**
 * µs per proof, the best of `rounds` rounds over the same distinct proofs, the two measures
 * interleaved (so both see the same machine): `signatureUs`, node:crypto's verify alone with an
 * imported key (the floor: RFC 9449 allows no bound request without it, every proof being new),
 * and `checkUs`, verifyDpopProof (parsing, shape and key checks, the key cache, the signature,
 * the claims, `ath`).
 */
async function verificationCost(alg: 'ES256' | 'EdDSA', rounds = 40, count = 200) {
  const sign = await signer(alg);
  const url = 'https://sessions.example.com/auth/me';
  const proofs = await Promise.all(Array.from({ length: count }, () => sign({ htm: 'GET', htu: url, ath: ath('token') })));
  const expect = { method: 'GET', url, accessToken: 'token', nowMs: Date.now(), iatWindowSeconds: 60 };
  const replay = new MemoryReplayCache({ maxEntries: 1_000_000, now: Date.now });
  const jwk = JSON.parse(Buffer.from(proofs[0]!.split('.')[0]!, 'base64url').toString()).jwk as crypto.JsonWebKey;
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const signed = proofs.map((proof) => {
    const [h, p, sig] = proof.split('.') as [string, string, string];
    return { input: Buffer.from(`${h}.${p}`), signature: Buffer.from(sig, 'base64url') };
  });
  const digest = alg === 'ES256' ? 'sha256' : null;
  let signatureUs = Infinity;
  let checkUs = Infinity;
  let withReplayUs = Infinity;
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    for (const { input, signature } of signed) {
      if (!crypto.verify(digest, input, { key, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('a bench proof does not verify');
    }
    signatureUs = Math.min(signatureUs, ((performance.now() - started) * 1000) / count);
    started = performance.now();
    for (const proof of proofs) verifyDpopProof(proof, expect);
    checkUs = Math.min(checkUs, ((performance.now() - started) * 1000) / count);
    // As the server does it: the checks, then the proof's replay entry (a new jti each round).
    started = performance.now();
    for (const proof of proofs) {
      const { jkt, jti } = verifyDpopProof(proof, expect);
      if (!(await replay.firstUse(jkt, `${jti}.${round}`, 120_000))) throw new Error('a bench proof was taken for a replay');
    }
    withReplayUs = Math.min(withReplayUs, ((performance.now() - started) * 1000) / count);
  }
  return { alg, signatureUs, checkUs, withReplayUs };
}

/**
 * One measured load against a server, with the server's CPU time per request. What the server
 * spends while idle (timers, the revocation feed's polls) is measured just before, over 2 s, and
 * taken off: at a low request rate it would otherwise be charged to the few requests.
 */
async function measured(pid: number, specs: LoadSpec[]) {
  const idleMeter = cpuMeter([pid]);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idlePercent = idleMeter.stop().serverPercent;
  const meter = cpuMeter([pid]);
  const r = best(await runLoads(specs, SECONDS));
  const cpu = meter.stop();
  const busyPercent = Math.max(0, cpu.serverPercent - idlePercent);
  return { ...r, serverPercent: cpu.serverPercent, serverUsPerRequest: ((busyPercent / 100) * r.seconds * 1e6) / Math.max(1, r.total) };
}

const best = (results: LoadResult[]) => results.reduce((sum, r) => ({ ...r, requestsPerSecond: sum.requestsPerSecond + r.requestsPerSecond, failures: sum.failures + r.failures, total: sum.total + r.total }));

async function main() {
  pinSelfToLoadCore();
  const lines: string[] = [];
  const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');
  const loadAtStart = loadAverage();
  const verification = [await verificationCost('ES256'), await verificationCost('EdDSA')];

  const baseline = await startServer({ name: 'baseline', entry: 'bench/servers/baseline.ts', env: {}, readyPath: '/health', logDir: tmp });
  await runLoads([{ baseUrl: baseline.baseUrl, connections: GENERATORS, requests: [{ path: '/' }] }], 2, false);
  const bare = await measured(baseline.pid, [{ baseUrl: baseline.baseUrl, connections: GENERATORS, requests: [{ path: '/' }] }]);
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
  const unbound = await measured(server.pid, [{ baseUrl: base, connections: GENERATORS, requests: [{ path: '/auth/me', headers: { authorization: `Bearer ${plainToken}` } }] }]);
  // The same unbound check through Fastify's full path (the fast path takes only the canonical
  // `Bearer `): what a bound request pays besides its proof, since bound tokens never take the fast path.
  const unboundFull = await measured(server.pid, [{ baseUrl: base, connections: GENERATORS, requests: [{ path: '/auth/me', headers: { authorization: `bearer ${plainToken}` } }] }]);

  // Proofs for the bound load, made just before it (iat must be within 60 s of use): enough for
  // the measured rate of the unbound check on every generator, so no list wraps around.
  const perGenerator = Math.ceil(((unbound.requestsPerSecond * (SECONDS + 3)) / GENERATORS) * 1.2);
  const proofList = async (n: number): Promise<RequestSpec[]> =>
    Promise.all(Array.from({ length: n }, async () => ({
      path: '/auth/me',
      headers: { authorization: `DPoP ${boundToken}`, dpop: await sign({ htm: 'GET', htu: `${base}/auth/me`, ath: ath(boundToken) }) },
    })));
  const warm = await Promise.all(Array.from({ length: GENERATORS }, () => proofList(300)));
  await runLoads(warm.map((requests) => ({ baseUrl: base, connections: 1, requests })), 1, false);
  const lists = await Promise.all(Array.from({ length: GENERATORS }, () => proofList(perGenerator)));
  const bound = await measured(server.pid, lists.map((requests) => ({ baseUrl: base, connections: 1, requests })));
  await server.stop();

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const es256 = verification[0]!;
  lines.push(`### Device-bound sessions (DPoP), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`, '');
  lines.push(
    `\`npm run bench:dpop\` (bench/dpop.ts), ${SECONDS} s per scenario, ${GENERATORS} connections; ${os.cpus().length}-core machine shared with other work ` +
      `(load average ${loadAtStart} at the start, ${loadAverage()} at the end: absolute figures are low and noisy, the ratios are what to read).`,
    '',
  );
  lines.push(
    '| Proof verification, in process (best of 40 rounds) | signature alone (the floor), µs | `verifyDpopProof` (all §4.3 checks but replay/nonce), µs | + the jti replay entry (memory), µs | around the signature, µs | proofs/s on one core |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const v of verification) {
    lines.push(`| ${v.alg} | ${v.signatureUs.toFixed(0)} | ${v.checkUs.toFixed(0)} | ${v.withReplayUs.toFixed(0)} | ${(v.withReplayUs - v.signatureUs).toFixed(0)} | ${fmt(1e6 / v.withReplayUs)} |`);
  }
  lines.push(
    '',
    '| Under load (server pinned to one core) | req/s | p50 ms | p99 ms | × bare node:http (req/s) | server CPU µs per request (idle CPU taken off) | server CPU % of a core | × bare node:http (CPU per request) | failures |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const scenarios = [
    ['bare node:http', bare],
    ['`GET /auth/me` unbound (Bearer, fast path)', unbound],
    ['`GET /auth/me` unbound, full path (`bearer`, lower case)', unboundFull],
    ['`GET /auth/me` bound (DPoP ES256 proof per request, full path)', bound],
  ] as const;
  for (const [name, r] of scenarios) {
    lines.push(
      `| ${name} | ${fmt(r.requestsPerSecond)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${(r.requestsPerSecond / bare.requestsPerSecond).toFixed(2)} | ` +
        `${r.serverUsPerRequest.toFixed(0)} | ${r.serverPercent.toFixed(0)} | ${(bare.serverUsPerRequest / r.serverUsPerRequest).toFixed(2)} | ${r.failures} |`,
    );
  }
  lines.push(
    '',
    `The bound row's p50/p99 are those of one of its ${GENERATORS} one-connection generators. "× bare (CPU per request)" is bare node:http's server CPU per request over the scenario's: the ratio with a whole core for the server, whatever limited the rate here.`,
    `Bound minus unbound full path: ${(bound.serverUsPerRequest - unboundFull.serverUsPerRequest).toFixed(0)} µs of server CPU per request for the DPoP part (proof header, checks, signature, replay entry); in process the proof check and replay entry take ${es256.withReplayUs.toFixed(0)} µs, ${es256.signatureUs.toFixed(0)} of them the signature.`,
    `The floor: a bound request verifies one new proof (RFC 9449 allows no skipping), ${es256.signatureUs.toFixed(0)} µs for ES256 here; against bare node:http's ${bare.serverUsPerRequest.toFixed(0)} µs per request, even a check costing nothing else could reach at most ${(bare.serverUsPerRequest / (bare.serverUsPerRequest + es256.signatureUs)).toFixed(2)}× bare node:http on this CPU (bare + one signature).`,
    '',
  );
  const text = lines.join('\n');
  console.log(text);
  if (process.argv.includes('--write')) fs.appendFileSync(path.resolve(import.meta.dirname, '../docs/BENCHMARKS.md'), `\n${text}`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

await main();
