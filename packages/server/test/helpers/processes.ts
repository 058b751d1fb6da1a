import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { HttpClient } from './http.ts';
import { requireFullTier } from './tier.ts';

const root = path.resolve(import.meta.dirname, '../../../..');

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface ServiceProcess {
  url: string;
  http: HttpClient;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Starts the real service (`src/server.ts`, as `npm start` runs it) in its own process with the
 * given environment; resolves once it listens. Stopped (SIGTERM) when the test ends.
 */
export async function startServiceProcess(t: TestContext, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/server.ts'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), RATE_LIMIT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  t.after(stop);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes('listening on')) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${out}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return { url, http: new HttpClient(url), child, output: () => out, stop };
}

/**
 * Starts the service through one of its documented starts (`npm start`, the `sessiond` bin, the
 * installed tree's entrypoint) as a real process; resolves once GET /health answers 200. Killed
 * (SIGKILL, with everything it started) if the test leaves it running.
 */
export async function startCommandProcess(
  t: TestContext,
  options: { command: string; args: string[]; env: Record<string, string>; cwd?: string; uid?: number; gid?: number; startTimeoutMs?: number },
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(options.command, options.args, {
    cwd: options.cwd ?? root,
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), RATE_LIMIT: 'off', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    const pids = [child.pid!, ...processTree(child.pid!)];
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    for (const pid of pids.filter(isRunning)) process.kill(pid, 'SIGKILL');
  };
  t.after(stop);
  const exitedEarly = new Promise<never>((_resolve, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`${options.command} ${options.args.join(' ')} exited (${signal ?? code}) before serving:\n${out}`))),
  );
  const started = performance.now();
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const healthy = (async () => {
    while (performance.now() - started < timeoutMs) {
      const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no answer on ${url}/health within ${timeoutMs} ms:\n${out}`);
  })();
  await Promise.race([healthy, exitedEarly]);
  exitedEarly.catch(() => {});
  return { url, http: new HttpClient(url), child, output: () => out, stop };
}

/** Every descendant of a process (Linux: each /proc/<pid>/stat names its parent). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it exited meanwhile
    }
    // Fields after the command name (which may hold spaces, hence the last ')'): state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(Number(entry), ppid);
  }
  const out: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

/** True while the process exists and is not a zombie (exited, waiting to be reaped). */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** kill -9 */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers (what a hung server or a black hole looks like). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

/**
 * A Redis server of the test's own on a free port (the machine's redis-server binary), so a test
 * can stop, restart or flush it without disturbing anything else using the machine's Redis.
 */
export async function startPrivateRedis(t: TestContext, options: { port?: number; started?: boolean } = {}): Promise<PrivateRedis> {
  requireFullTier('Redis');
  const port = options.port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
      c.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`redis-server could not be started (is Redis installed?): ${e.message}`));
      });
      c.stdout.on('data', (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  if (options.started ?? true) await start();
  t.after(async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const signal = (name: NodeJS.Signals) => {
    if (!child || child.exitCode !== null) throw new Error('redis-server is not running');
    child.kill(name);
  };
  return { url: `redis://127.0.0.1:${port}`, port, stop, start, pause: () => signal('SIGSTOP'), resume: () => signal('SIGCONT') };
}

/** Polls `fn` until it returns true or `timeoutMs` passes; returns the elapsed milliseconds, or -1. */
export async function waitUntil(fn: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await fn()) return performance.now() - started;
  }
  return -1;
}
