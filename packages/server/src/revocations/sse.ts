import type { ServerResponse } from 'node:http';

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
 * Every open stream of this process: one heartbeat timer for all of them (a comment at least every
 * `heartbeatMs`, so clients can tell a silent stream from a dead one), and `closeAll` on shutdown, so
 * a graceful close does not wait for streams that never end by themselves.
 */
export class SseRegistry {
  private readonly streams = new Set<SseStream>();
  private readonly timer: NodeJS.Timeout;
  private closing = false;

  constructor(readonly heartbeatMs: number) {
    this.timer = setInterval(() => {
      for (const stream of this.streams) stream.write(': \n\n');
    }, heartbeatMs);
    this.timer.unref();
  }

  get size(): number {
    return this.streams.size;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  add(stream: SseStream): void {
    if (this.closing) {
      stream.close();
      return;
    }
    this.streams.add(stream);
    stream.onClose(() => this.streams.delete(stream));
  }

  /** Shutdown: ends every stream and refuses new ones. */
  closeAll(): void {
    this.closing = true;
    clearInterval(this.timer);
    this.dropAll();
  }

  /** Ends every open stream (clients reconnect and resume); new ones are still accepted. */
  dropAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}
