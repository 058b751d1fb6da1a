// test-tier: full (service processes)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { freePort, waitUntil } from '../helpers/processes.ts';

/** The real server process (src/server.ts, as `npm start` runs it), stdout and stderr kept apart. */
const root = path.resolve(import.meta.dirname, '../../../..');

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/server.ts'], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', RATE_LIMIT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out, exited };
}

// Longer than the 60 s default, for the suite and its tests: each starts the service as a process.
describe('operator conventions (real process)', { timeout: 120_000 }, () => {
  test('a bad configuration value: exit 2, one stderr line naming the variable and what it accepts, nothing on stdout', async (t) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-conv-'));
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const { out, exited } = run({ DATA_DIR: dataDir, PORT: String(await freePort()), ACCESS_TOKEN_TTL_SECONDS: '1' });
    assert.equal(await exited, 2);
    const lines = out.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, `one line:\n${out.stderr}`);
    assert.match(lines[0]!, /ACCESS_TOKEN_TTL_SECONDS="1": expected an integer from 30 to 86400/);
    assert.doesNotMatch(out.stderr, /TypeError|at .*\.ts/, 'no stack trace');
    assert.equal(out.stdout, '');
    assert.deepEqual(fs.readdirSync(dataDir), [], 'nothing created');
  });

  test('stdout carries only JSON lines when it is not a terminal (the start announcement included)', async (t) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-conv-'));
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const { child, out, exited } = run({ DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' });
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    assert.ok((await waitUntil(async () => (await new Promise((r) => setTimeout(r, 50)), out.stdout.includes('listening on')), 60_000)) >= 0, `started:\n${out.stdout}${out.stderr}`);
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${base}/health`)).status, 200);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const lines = out.stdout.split('\n').filter(Boolean);
    assert.ok(lines.length >= 3, `the announcement and two request lines:\n${out.stdout}`);
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
    const parsed = lines.map((l) => JSON.parse(l) as { msg?: string; url?: string; level?: number });
    const announcement = parsed.find((l) => l.msg?.startsWith('sessiond listening on'));
    assert.ok(announcement, 'the start is announced as a JSON line');
    assert.equal(announcement.url, base);
    assert.equal(parsed.filter((l) => l.msg === 'request completed').length, 2);
  });
});
