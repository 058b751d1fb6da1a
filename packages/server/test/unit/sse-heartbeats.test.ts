// SseRegistry's heartbeats over real sockets: every stream gets one every interval of its class,
// and they are spread over the interval instead of written to every stream in one event-loop turn
// (which, with 10,000 streams open, stalled every request once a second). Write times are recorded
// on the server side, where they happen, so a loaded machine delaying the clients cannot bunch them.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SseRegistry, SseStream } from '../../src/revocations/sse.ts';

class RecordingStream extends SseStream {
  readonly heartbeats: number[] = [];
  override write(chunk: string): void {
    if (chunk === ': \n\n') this.heartbeats.push(performance.now());
    super.write(chunk);
  }
}

async function openStreams(count: number, onOpen: (stream: RecordingStream, index: number) => void) {
  let opened = 0;
  const server = http.createServer((_req, res) => onOpen(new RecordingStream(res, {}), opened++));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const clients: http.ClientRequest[] = [];
  await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, agent: false }, (res) => {
          res.on('data', () => {});
          resolve();
        });
        req.on('error', reject);
        clients.push(req);
      }),
    ),
  );
  return {
    async close() {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function until(what: string, condition: () => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('heartbeats: one per interval for every stream, spread over the interval, per stream class', async (t) => {
  const registry = new SseRegistry(500);
  t.after(() => registry.closeAll());
  const fast: RecordingStream[] = [];
  const slow: RecordingStream[] = [];
  const started = performance.now();
  const streams = await openStreams(100, (stream, i) => {
    if (i % 2 === 0) {
      fast.push(stream);
      registry.add(stream); // the registry's interval, 500 ms
    } else {
      slow.push(stream);
      registry.add(stream, 1500);
    }
  });
  t.after(() => streams.close());
  assert.equal(registry.size, 100);

  await until('every 500 ms stream has had 3 heartbeats', () => fast.every((s) => s.heartbeats.length >= 3));
  const elapsed = performance.now() - started;
  // Never more than one per interval (a stalled event loop can only make fewer): the class is kept.
  for (const s of fast) assert.ok(s.heartbeats.length <= Math.ceil(elapsed / 500) + 1, `fast: ${s.heartbeats.length} in ${elapsed} ms`);
  for (const s of slow) assert.ok(s.heartbeats.length <= Math.ceil(elapsed / 1500) + 1, `slow: ${s.heartbeats.length} in ${elapsed} ms`);
  await until('every 1,500 ms stream has had two heartbeats', () => slow.every((s) => s.heartbeats.length >= 2));
  // Each stream's heartbeats are one interval of its class apart (timers are only ever late).
  const gaps = (s: RecordingStream) => s.heartbeats.slice(1).map((at, i) => at - s.heartbeats[i]!);
  for (const s of fast) for (const gap of gaps(s)) assert.ok(gap >= 450, `fast gap ${gap} ms`);
  for (const s of slow) for (const gap of gaps(s)) assert.ok(gap >= 1400, `slow gap ${gap} ms`);

  // Spread: the 50 streams of 500 ms are dealt into 25 slots of 20 ms, two per tick. All written in
  // one turn (the former single timer), 50 would fall within a few milliseconds of one another.
  const firsts = fast.map((s) => s.heartbeats[0]!).sort((a, b) => a - b);
  let busiest = 0;
  for (let i = 0, j = 0; i < firsts.length; i++) {
    while (firsts[i]! - firsts[j]! > 5) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  assert.ok(busiest <= 10, `${busiest} of 50 first heartbeats within 5 ms: not spread`);

  // A closed stream leaves its slot; closeAll ends the rest and stops the timers.
  fast[0]!.close();
  assert.equal(registry.size, 99);
  registry.closeAll();
  assert.equal(registry.size, 0);
  const counts = [...fast, ...slow].map((s) => s.heartbeats.length);
  await new Promise((r) => setTimeout(r, 700));
  assert.deepEqual([...fast, ...slow].map((s) => s.heartbeats.length), counts, 'no heartbeat after closeAll');
});
