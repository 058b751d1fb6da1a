import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { registerUser } from '../helpers/http.ts';
import { startServiceProcess } from '../helpers/processes.ts';

/** Starts an HTTP request on a raw socket and sends only part of its body; `finish` sends the rest. */
function halfSentRequest(url: string, pathname: string, body: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let response = '';
  socket.on('data', (d) => (response += d));
  const done = new Promise<string>((resolve, reject) => {
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
  });
  const cut = Math.floor(body.length / 2);
  socket.write(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, cut)}`);
  return { finish: () => socket.write(body.slice(cut)), response: done };
}

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
