import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './processes.ts';
import { requireFullTier } from './tier.ts';

/**
 * A PostgreSQL server of the test's own (the machine's PostgreSQL binaries, a throw-away data
 * directory, a free port), so fault tests can stop and restart it without disturbing the machine's
 * server that other test files use at the same time. Runs as the `postgres` user when we are root
 * (initdb refuses root).
 */
export interface PrivatePostgres {
  url: string;
  stop(mode?: 'immediate' | 'fast'): void;
  start(): void;
  /** Every process of the running cluster: the postmaster and all its children (backends included). */
  pids(): number[];
}

function binDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort() : [];
  const found = versions.map((v) => path.join(base, v, 'bin')).find((d) => fs.existsSync(path.join(d, 'initdb')));
  if (!found) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) are not installed');
  return found;
}

export async function startPrivatePostgres(t: TestContext): Promise<PrivatePostgres> {
  requireFullTier('PostgreSQL');
  const bin = binDir();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const run = (cmd: string, args: string[]) =>
    asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { stdio: 'pipe' }) : execFileSync(path.join(bin, cmd), args, { stdio: 'pipe' });
  const data = path.join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=50`;
  const start = () => {
    run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
  };
  const stop = (mode: 'immediate' | 'fast' = 'immediate') => {
    try {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    } catch {
      // already stopped
    }
  };
  start();
  t.after(() => {
    stop('immediate');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const pids = () => {
    const postmaster = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let children: number[] = [];
    try {
      children = execFileSync('pgrep', ['-P', String(postmaster)]).toString().trim().split('\n').filter(Boolean).map(Number);
    } catch {
      // pgrep exits 1 when there is no child
    }
    return [postmaster, ...children];
  };
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, start, pids };
}
