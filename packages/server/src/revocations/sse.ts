import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { logAnswered } from '../http/request-hooks.ts';

/** A connection whose unsent output exceeds this is too slow to follow; it is closed and will resume from its cursor. */
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * One open Server-Sent Events response. Written by hand on the raw response (the route hijacks the
 * reply): an event stream is not a Fastify reply, and writing to it must not allocate more than the
 * bytes themselves, since one revocation is written to every open stream.
 */
export class SseStream {
  private closed = false;
  private readonly closeHandlers: Array<() => void> = [];

  constructor(private readonly response: ServerResponse, headers: Record<string, string | number | string[] | undefined>) {
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      // Proxies and browsers must neither cache nor buffer an event stream (X-Accel-Buffering: nginx).
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    response.flushHeaders();
    response.socket?.setNoDelay(true);
    response.on('close', () => this.finish());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** One event; `data` must not contain a newline (JSON.stringify output never does). */
  send(event: string, data: string, id?: string): void {
    this.write(id === undefined ? `event: ${event}\ndata: ${data}\n\n` : `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`);
  }

  /** A comment line: a heartbeat for clients and proxies alike. */
  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  write(chunk: string): void {
    if (this.closed) return;
    this.response.write(chunk);
    if (this.response.writableLength > MAX_BUFFERED_BYTES) this.close();
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  close(): void {
    if (this.closed) return;
    this.response.end();
    this.finish();
  }

  private finish(): void {
    if (this.closed && this.closeHandlers.length === 0) return;
    this.closed = true;
    for (const handler of this.closeHandlers.splice(0)) handler();
  }
}

/**
 * A route's reply turned into an event stream: hijacked (Fastify's lifecycle ends here), registered
 * for heartbeats and shutdown, and given its access-log line when it closes, which the onResponse
 * hook does not write for a hijacked reply (its response time is then how long the stream was open).
 */
export function openStream(request: FastifyRequest, reply: FastifyReply, registry: SseRegistry, heartbeatMs?: number): SseStream {
  reply.hijack();
  const stream = new SseStream(reply.raw, reply.getHeaders());
  registry.add(stream, heartbeatMs);
  stream.onClose(() => logAnswered(request, reply));
  return stream;
}

/** Heartbeats of one interval, spread over it: `slots` groups, one written per tick. */
class HeartbeatWheel {
  private readonly slots: Array<Set<SseStream>>;
  private readonly slotOf = new Map<SseStream, number>();
  private next = 0;
  private dealt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number, slotCount: number) {
    this.slots = Array.from({ length: slotCount }, () => new Set<SseStream>());
  }

  get size(): number {
    return this.slotOf.size;
  }

  add(stream: SseStream): void {
    // Dealt round the slots, so that even a burst (every client reconnecting after a restart) fills
    // them evenly. Its first heartbeat comes within one interval, then one every interval.
    const slot = this.dealt++ % this.slots.length;
    this.slots[slot]!.add(stream);
    this.slotOf.set(stream, slot);
    // The timer runs only while a stream of this interval is open.
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs / this.slots.length);
      this.timer.unref();
    }
  }

  delete(stream: SseStream): void {
    const slot = this.slotOf.get(stream);
    if (slot === undefined) return;
    this.slots[slot]!.delete(stream);
    this.slotOf.delete(stream);
    if (this.slotOf.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const slot = this.slots[this.next]!;
    this.next = (this.next + 1) % this.slots.length;
    for (const stream of slot) stream.write(': \n\n');
  }
}

/** How often a heartbeat tick runs: each tick writes the streams of one slot. */
const TICK_MS = 20;

/**
 * Every open stream of this process: heartbeats (a comment at least every `heartbeatMs` of the
 * stream's class, so clients and proxies can tell a silent stream from a dead one), and `closeAll`
 * on shutdown, so a graceful close does not wait for streams that never end by themselves.
 *
 * Heartbeats are spread over their interval, not written all at once: streams are dealt into slots
 * of TICK_MS and one slot is written per tick. With 10,000 open streams, writing them all from one
 * timer stalled the event loop for every request once a period (10,000 socket writes in one turn,
 * docs/BENCHMARKS.md "Revocation everywhere"); spread, a tick writes a few hundred at most. Each
 * stream still gets exactly one heartbeat per interval, from its own slot.
 */
export class SseRegistry {
  private readonly streams = new Set<SseStream>();
  private readonly wheels = new Map<number, HeartbeatWheel>();
  private closing = false;

  /** `heartbeatMs`: the interval of streams added without one of their own. */
  constructor(readonly heartbeatMs: number) {}

  get size(): number {
    return this.streams.size;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Adds an open stream, with a heartbeat every `heartbeatMs` (default: the registry's). */
  add(stream: SseStream, heartbeatMs = this.heartbeatMs): void {
    if (this.closing) {
      stream.close();
      return;
    }
    let wheel = this.wheels.get(heartbeatMs);
    if (!wheel) {
      wheel = new HeartbeatWheel(heartbeatMs, Math.max(1, Math.round(heartbeatMs / TICK_MS)));
      this.wheels.set(heartbeatMs, wheel);
    }
    this.streams.add(stream);
    wheel.add(stream);
    const owner = wheel;
    stream.onClose(() => {
      this.streams.delete(stream);
      owner.delete(stream);
    });
  }

  /** Shutdown: ends every stream and refuses new ones. */
  closeAll(): void {
    this.closing = true;
    this.dropAll();
    for (const wheel of this.wheels.values()) wheel.stop();
  }

  /** Ends every open stream (clients reconnect and resume); new ones are still accepted. */
  dropAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}
