import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

/**
 * Load generation with wrk when it is installed (below), otherwise with autocannon used
 * programmatically from the runner process; either runs on the load core. Each scenario is a warm-up run whose numbers are thrown away, then a measured run.
 * Latencies are recorded here from autocannon's per-response event at microsecond resolution
 * (autocannon's own histogram keeps whole milliseconds), for 2xx answers only; any other status
 * or a socket error is counted, and a scenario with any is reported as failed.
 */

/** One request of a scenario; a scenario cycles through its list on every connection. */
export interface RequestSpec {
  method?: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadSpec {
  baseUrl: string;
  connections: number;
  requests: RequestSpec[];
  /** Requests per second over all connections (a fixed arrival rate); unset = as fast as possible. */
  overallRate?: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  /** Non-2xx answers plus socket errors and timeouts. */
  failures: number;
  seconds: number;
}

export interface CpuUse {
  /** Percent of one core, averaged over the measurement. */
  serverPercent: number;
  generatorPercent: number;
  postgresPercent: number;
  /** Everything else on the machine (other people's processes and databases, the kernel): the noise. */
  otherPercent: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function options(spec: LoadSpec, seconds: number): autocannon.Options {
  return {
    url: spec.baseUrl,
    connections: spec.connections,
    duration: seconds,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    // Prebuilt requests (no setupRequest): the generator only writes bytes it already has.
    requests: spec.requests.map((r) => ({ method: r.method ?? 'GET', path: r.path, headers: r.headers ?? {}, ...(r.body ? { body: r.body } : {}) })),
    timeout: 10,
  };
}

/**
 * Loads whose prebuilt requests would not fit one wrk Lua script: Lua allows 65,536 constants per
 * function, and each prebuilt request is one (bench:dpop prebuilds a fresh proof per request).
 * Those run on autocannon, which takes any number of requests.
 */
const WRK_MAX_REQUESTS = 20_000;

/** Runs several loads at once for `seconds`; resolves with one result per spec. */
export async function runLoads(specs: LoadSpec[], seconds: number, record = true): Promise<LoadResult[]> {
  return Promise.all(
    specs.map(
      (spec) =>
        wrkPath && !spec.overallRate && spec.requests.length <= WRK_MAX_REQUESTS ? runWrk(spec, seconds) : new Promise<LoadResult>((resolve, reject) => {
          let latencies = new Float64Array(1 << 16);
          let n = 0;
          let failures = 0;
          const instance = autocannon(options(spec, seconds), (error, result) => {
            if (error) return reject(error);
            const sorted = latencies.subarray(0, n).sort();
            resolve({
              requestsPerSecond: n / result.duration,
              p50Ms: percentile(sorted, 50),
              p99Ms: percentile(sorted, 99),
              total: n,
              failures: failures + result.errors + result.timeouts,
              seconds: result.duration,
            });
          });
          if (record) {
            instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
              if (statusCode < 200 || statusCode > 299) {
                failures++;
                return;
              }
              if (n === latencies.length) {
                const grown = new Float64Array(latencies.length * 2);
                grown.set(latencies);
                latencies = grown;
              }
              latencies[n++] = responseTimeMs;
            });
          }
        }),
    ),
  );
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

function readProcessTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime, all threads
  } catch {
    return 0;
  }
}

/**
 * CPU ticks of the PostgreSQL backends serving `database`, by pid: a backend's title names its
 * database ("postgres: 15/main: postgres sessiond_bench_ab12 127.0.0.1(5432) idle"), so other
 * people's databases on the same server are not counted as ours.
 */
function postgresTicks(database: string): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(` ${database} `)) ticks.set(Number(entry), readProcessTicks(Number(entry)));
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

/** Ticks used between two snapshots: processes that ended are left out, new ones count whole. */
function ticksBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ticks] of after) total += ticks - (before.get(pid) ?? 0);
  return total;
}

/**
 * CPU seconds of the load generator: this process, plus on Linux its finished children (wrk runs
 * end before the meter stops, and their time is then in this process's cutime and cstime).
 */
function generatorTicks(linux: boolean): number {
  if (!linux) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  }
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND;
}

function machineBusyTicks(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  return user! + nice! + system! + irq! + softirq! + steal!;
}

/**
 * CPU accounting around a measurement: who used the two cores while it ran. `postgresDatabase`
 * names the database whose backends count as the scenario's PostgreSQL work.
 */
export function cpuMeter(serverPids: number[], postgresDatabase?: string) {
  const linux = fs.existsSync('/proc/stat');
  const snapshot = () => ({
    at: performance.now(),
    server: serverPids.reduce((sum, pid) => sum + readProcessTicks(pid), 0),
    postgres: linux && postgresDatabase ? postgresTicks(postgresDatabase) : new Map<number, number>(),
    machine: linux ? machineBusyTicks() : 0,
    generator: generatorTicks(linux),
  });
  const start = snapshot();
  return {
    stop(): CpuUse {
      const end = snapshot();
      const seconds = (end.at - start.at) / 1000;
      const pct = (ticks: number) => (ticks / CLOCK_TICKS_PER_SECOND / seconds) * 100;
      const generatorPercent = ((end.generator - start.generator) / seconds) * 100;
      const serverPercent = pct(end.server - start.server);
      const postgresPercent = pct(ticksBetween(start.postgres, end.postgres));
      const otherPercent = Math.max(0, pct(end.machine - start.machine) - serverPercent - generatorPercent - postgresPercent);
      return { serverPercent, generatorPercent, postgresPercent, otherPercent };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// wrk: the C load generator (Debian's `wrk` package), preferred when installed.

/**
 * wrk when it is on the PATH (and BENCH_GENERATOR is not `autocannon`), autocannon otherwise. wrk
 * is a C program: on the one load core it makes about twice the requests autocannon can (which
 * runs on Node, like the servers it measures), so at 50k+ req/s it is the server, not the
 * generator, that bounds a reading. Rate-limited loads (`overallRate`) always use autocannon: wrk
 * has no fixed arrival rate.
 */
export const wrkPath: string | undefined = (() => {
  if (process.env.BENCH_GENERATOR === 'autocannon') return undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'wrk');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
})();

/** The generator's name as the reports print it. */
export const generatorName = wrkPath ? 'wrk' : 'autocannon';

const luaString = (text: string) => JSON.stringify(text); // a JSON string is a valid Lua string literal for this ASCII

/**
 * The Lua script of one load: every request prebuilt with wrk.format, each connection's thread
 * cycling through them as autocannon does; at the end, the summary as one JSON line on stderr
 * (latency percentiles in µs; `status` counts answers outside 2xx/3xx, which wrk calls errors).
 */
function wrkScript(spec: LoadSpec): string {
  const requests = spec.requests.map((r) => {
    const headers = Object.entries(r.headers ?? {}).map(([k, v]) => `[${luaString(k)}] = ${luaString(v)}`).join(', ');
    return `wrk.format(${luaString(r.method ?? 'GET')}, ${luaString(r.path)}, { ${headers} }, ${r.body === undefined ? 'nil' : luaString(r.body)})`;
  });
  return `
local requests = nil
local i = 0
init = function(args)
  requests = { ${requests.join(',\n    ')} }
end
request = function()
  i = i % #requests + 1
  return requests[i]
end
done = function(summary, latency, _)
  local e = summary.errors
  io.stderr:write(string.format('{"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
`;
}

let scriptCounter = 0;

/** One wrk run (one thread: the load core is one core) of `spec` for `seconds`. */
async function runWrk(spec: LoadSpec, seconds: number): Promise<LoadResult> {
  const script = path.join(os.tmpdir(), `sessiond-wrk-${process.pid}-${++scriptCounter}.lua`);
  fs.writeFileSync(script, wrkScript(spec));
  try {
    const child = spawn(wrkPath!, ['-t1', `-c${spec.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, spec.baseUrl], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve));
    const line = stderr.split('\n').find((l) => l.startsWith('{"requests"'));
    if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${stderr.slice(0, 500)}`);
    const s = JSON.parse(line) as { requests: number; durationUs: number; p50Us: number; p99Us: number; connect: number; read: number; write: number; status: number; timeout: number };
    const secondsRun = s.durationUs / 1e6;
    const failures = s.connect + s.read + s.write + s.status + s.timeout;
    return { requestsPerSecond: (s.requests - s.status) / secondsRun, p50Ms: s.p50Us / 1000, p99Ms: s.p99Us / 1000, total: s.requests - s.status, failures, seconds: secondsRun };
  } finally {
    fs.rmSync(script, { force: true });
  }
}
