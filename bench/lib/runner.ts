import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuMeter, runLoads, type CpuUse, type LoadResult, type LoadSpec } from './load.ts';
import { fmt } from './report.ts';

/** Command-line options every load script takes (node:util parseArgs). */
export const loadOptions = {
  seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '10' },
  warmup: { type: 'string', default: process.env.BENCH_WARMUP_SECONDS ?? '10' },
  connections: { type: 'string', default: '50' },
  'no-write': { type: 'boolean', default: false },
} as const;

/** One measured load: its numbers and who used the CPU meanwhile. */
export interface Measured {
  result: LoadResult;
  cpu: CpuUse;
}

/**
 * What the entry scripts (run.ts, scale.ts) share: a scratch folder for server data and logs, a
 * timestamped log, and the measurement protocol (warm-up, then a measured run under a CPU meter).
 */
export function benchSession(name: string, options: { warmupSeconds: number; seconds: number }) {
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `sessiond-${name}-`));
  const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

  return {
    tmp,
    log,
    /** Warm-up, then a measured run of the given loads at once against the server (and its database). */
    async measure(server: { pid: number; postgresDatabase?: string }, loads: Array<{ label: string; spec: LoadSpec }>): Promise<Measured[]> {
      await runLoads(loads.map((l) => l.spec), options.warmupSeconds, false);
      const meter = cpuMeter([server.pid], server.postgresDatabase);
      const results = await runLoads(loads.map((l) => l.spec), options.seconds);
      const cpu = meter.stop();
      return loads.map((load, i) => {
        const r = results[i]!;
        log(
          `${load.label.padEnd(26)} ${fmt(r.requestsPerSecond).padStart(7)} req/s  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms` +
            `${r.failures ? `  FAILURES ${r.failures}` : ''}  cpu: server ${fmt(cpu.serverPercent)}% gen ${fmt(cpu.generatorPercent)}% pg ${fmt(cpu.postgresPercent)}% other ${fmt(cpu.otherPercent)}%`,
        );
        return { result: r, cpu };
      });
    },
    /** Runs `main`; removes the scratch folder on success, keeps it (server logs) on failure. */
    async run(main: () => Promise<void>): Promise<void> {
      try {
        await main();
        fs.rmSync(tmp, { recursive: true, force: true });
        log(`done in ${fmt((Date.now() - started) / 60_000, 1)} min`);
      } catch (error) {
        console.error(`${name} failed; server logs kept in ${tmp}`);
        throw error;
      }
    },
  };
}
