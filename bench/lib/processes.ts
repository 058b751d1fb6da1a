import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { repoRoot } from './report.ts';

/**
 * Server processes of the benchmark: each runs on the server core (`taskset -c 1`), listens on
 * 127.0.0.1 only, writes its stdout to /dev/null (so log volume costs the server what it costs in
 * production, and the load core never reads it) and its stderr to a file, and stops itself after
 * BENCH_MAX_LIFETIME_SECONDS even if this runner dies.
 */

export const LOAD_CORE = 0;
export const SERVER_CORE = 1;

export const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Re-runs this script pinned to the load core unless it already is; returns false in the child
 * (carry on) and never returns in the parent. Without taskset (not Linux) it warns and carries on.
 */
export function pinSelfToLoadCore(): void {
  if (process.env.BENCH_PINNED === '1') return;
  if (!hasTaskset) {
    console.warn('taskset not found: load generator and servers are NOT pinned to separate cores; ratios are less reliable');
    process.env.BENCH_PINNED = '0';
    return;
  }
  const child = spawnSync('taskset', ['-c', String(LOAD_CORE), process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  process.exit(child.status ?? 1);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  name: string;
  baseUrl: string;
  pid: number;
  /** The PostgreSQL database it uses, if any (its backends' CPU is counted as the scenario's). */
  postgresDatabase?: string;
  stop(): Promise<void>;
}

// Servers never outlive the runner: killed when it exits, and when it is interrupted.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill('SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/**
 * Starts `entry` (a .ts file, through tsx) pinned to the server core with `env`, and waits until
 * `readyPath` answers 200.
 */
export async function startServer(options: {
  name: string;
  entry: string;
  env: Record<string, string>;
  readyPath: string;
  logDir: string;
  maxLifetimeSeconds?: number;
  /** Extra node flags, e.g. `--cpu-prof` to profile a server under load. */
  nodeArgs?: string[];
  postgresDatabase?: string;
}): Promise<ServerProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const stderrFile = path.join(options.logDir, `${options.name.replace(/\W+/g, '-')}.stderr.log`);
  const stderr = fs.openSync(stderrFile, 'w');
  const stdout = fs.openSync('/dev/null', 'w');
  const nodeArgs = [...(options.nodeArgs ?? []), '--import', 'tsx', path.resolve(repoRoot, options.entry)];
  const [command, args] = hasTaskset ? ['taskset', ['-c', String(SERVER_CORE), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(command as string, args as string[], {
    cwd: repoRoot,
    stdio: ['ignore', stdout, stderr],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      BENCH_PINNED: '',
      PORT: String(port),
      HOST: '127.0.0.1',
      BENCH_MAX_LIFETIME_SECONDS: String(options.maxLifetimeSeconds ?? 900),
      ...options.env,
    },
  });
  fs.closeSync(stderr);
  fs.closeSync(stdout);
  running.add(child);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    running.delete(child);
    resolve();
  }));

  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited) throw new Error(`${options.name} exited during start; see ${stderrFile}:\n${fs.readFileSync(stderrFile, 'utf8').slice(-2000)}`);
    try {
      const res = await fetch(baseUrl + options.readyPath, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} did not become ready in 120 s; see ${stderrFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    name: options.name,
    baseUrl,
    pid: child.pid!,
    ...(options.postgresDatabase ? { postgresDatabase: options.postgresDatabase } : {}),
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T, R>(items: T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}
