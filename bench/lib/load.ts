import fs from 'node:fs';
import autocannon from 'autocannon';

/**
 * Load generation with autocannon, used programmatically from the runner process (pinned to the
 * load core). Each scenario is a warm-up run whose numbers are thrown away, then a measured run.
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

/** Runs several loads at once for `seconds`; resolves with one result per spec. */
export async function runLoads(specs: LoadSpec[], seconds: number, record = true): Promise<LoadResult[]> {
  return Promise.all(
    specs.map(
      (spec) =>
        new Promise<LoadResult>((resolve, reject) => {
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
    generator: process.cpuUsage(),
  });
  const start = snapshot();
  return {
    stop(): CpuUse {
      const end = snapshot();
      const seconds = (end.at - start.at) / 1000;
      const pct = (ticks: number) => (ticks / CLOCK_TICKS_PER_SECOND / seconds) * 100;
      const generatorUsage = process.cpuUsage(start.generator);
      const generatorPercent = ((generatorUsage.user + generatorUsage.system) / 1e6 / seconds) * 100;
      const serverPercent = pct(end.server - start.server);
      const postgresPercent = pct(ticksBetween(start.postgres, end.postgres));
      const otherPercent = Math.max(0, pct(end.machine - start.machine) - serverPercent - generatorPercent - postgresPercent);
      return { serverPercent, generatorPercent, postgresPercent, otherPercent };
    },
  };
}
