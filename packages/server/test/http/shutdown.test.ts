// test-tier: full (builds the server, service processes)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ensureBuilt } from '../../../../scripts/build.mjs';
import { registerUser } from '../helpers/http.ts';
import { isRunning, processTree, startCommandProcess, startServiceProcess, waitUntil } from '../helpers/processes.ts';

/** Starts an HTTP request on a raw socket and sends only part of its body; `finish` sends the rest. */
function halfSentRequest(url: string, pathname: string, body: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString()));
  const done = new Promise<string>((resolve, reject) => {
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
  });
  const cut = Math.floor(body.length / 2);
  socket.write(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, cut)}`);
  return { finish: () => socket.write(body.slice(cut)), response: done };
}

// Longer than the 60 s default: a service process started, signalled and waited for.
test('SIGTERM: an in-flight request is finished, new connections are refused, the process exits 0', { timeout: 180_000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-shutdown-'));
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const svc = await startServiceProcess(t, { DATA_DIR: dataDir });
  const user = await registerUser(svc.http);

  const pending = halfSentRequest(svc.url, '/auth/login', JSON.stringify({ email: user.email, password: user.password }));
  await new Promise((r) => setTimeout(r, 300)); // the server has the headers: the request is in flight
  const exited = new Promise<number | null>((resolve) => svc.child.once('exit', (code) => resolve(code)));
  svc.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  await assert.rejects(fetch(`${svc.url}/health`), 'no new connections once shutting down');
  pending.finish();
  const raw = await pending.response;
  assert.match(raw, /^HTTP\/1\.1 200 /, `the in-flight sign-in was answered: ${raw.slice(0, 200)}`);
  assert.equal(await exited, 0, `clean exit; output:\n${svc.output()}`);

  // the session that sign-in created was committed before exit
  const again = await startServiceProcess(t, { DATA_DIR: dataDir });
  assert.deepEqual((await again.http.get('/sessions/count', { token: user.accessToken })).body, { count: 2 });
});

/**
 * SIGTERM/SIGINT through each documented start reaches the server: `npm start` (npm runs scripts
 * under `sh -c`; without `exec` the shell died and orphaned the server), the `sessiond serve` bin,
 * and WORKERS=2 (the primary forwards, waits for its workers, exits 0). In each, a request in
 * flight is answered, the command exits 0, and no process of its tree is left.
 */
describe('signals through every documented start', () => {
  // Longer than the 60 s default: a cold build of the server and the page takes minutes on a loaded machine.
  before(() => ensureBuilt(['server', 'web'], { ifStale: true, quiet: true }), { timeout: 240_000 });

  const bin = 'packages/server/bin/sessiond.js';
  const starts: { name: string; command: string; args: string[]; env?: Record<string, string>; signal: NodeJS.Signals; processes: number }[] = [
    { name: 'npm start', command: 'npm', args: ['start'], signal: 'SIGTERM', processes: 2 },
    { name: 'sessiond serve', command: process.execPath, args: [bin, 'serve'], signal: 'SIGTERM', processes: 1 },
    { name: 'sessiond serve (SIGINT, as Ctrl-C sends)', command: process.execPath, args: [bin, 'serve'], signal: 'SIGINT', processes: 1 },
    { name: 'WORKERS=2 sessiond serve', command: process.execPath, args: [bin, 'serve'], env: { WORKERS: '2' }, signal: 'SIGTERM', processes: 3 },
  ];

  for (const start of starts) {
    // Longer than the 60 s default: each documented start (npm, the bin, WORKERS=2) as a real process.
    test(`${start.signal} to ${start.name}: in-flight request answered, exit 0, no process left`, { timeout: 180_000 }, async (t) => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-signal-'));
      t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
      const svc = await startCommandProcess(t, { command: start.command, args: start.args, env: { DATA_DIR: dataDir, ...start.env } });
      const user = await registerUser(svc.http);
      const tree = [svc.child.pid!, ...processTree(svc.child.pid!)];
      assert.equal(tree.length, start.processes, `process tree of ${start.name}: ${tree.join(', ')}`);

      const pending = halfSentRequest(svc.url, '/auth/login', JSON.stringify({ email: user.email, password: user.password }));
      await new Promise((r) => setTimeout(r, 300)); // the server has the headers: the request is in flight
      const exited = new Promise<number | null>((resolve) => svc.child.once('exit', (code) => resolve(code)));
      svc.child.kill(start.signal);
      await new Promise((r) => setTimeout(r, 300));
      pending.finish();
      const raw = await pending.response;
      assert.match(raw, /^HTTP\/1\.1 200 /, `the in-flight sign-in was answered: ${raw.slice(0, 200)}`);
      assert.equal(await exited, 0, `${start.name} exits 0; output:\n${svc.output()}`);
      await waitUntil(async () => tree.every((pid) => !isRunning(pid)), 5_000);
      assert.deepEqual(tree.filter(isRunning), [], 'no process of the tree is left running');
      await assert.rejects(fetch(`${svc.url}/health`), 'nothing listens any more');
    });
  }
});
