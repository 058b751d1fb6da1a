import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { UUID } from './uuid.ts';

/** One session end as the stream reports it (`event: revoked`), close to OpenID CAEP's session-revoked. */
export interface SessionEnded {
  sessionId: string;
  userId: string;
  reason: string;
  endedAt: string;
}

/** What the server says when its snapshot (or catch-up) is complete (`event: live`). */
export interface LiveInfo {
  heartbeatMs?: number;
  tokenLifetimeSeconds?: number;
}

export interface StreamHandlers {
  onRevoked(event: SessionEnded): void;
  /** The snapshot or catch-up is complete: from here on, the stream is current. */
  onLive(info: LiveInfo): void;
  /** The cursor was older than the server keeps: it restarts from its snapshot. */
  onReset(): void;
  /** Any sign of life: an event or a heartbeat comment. */
  onHeard(): void;
  /** The connection is gone (ended, failed or abandoned); memory is no longer current. */
  onDisconnected(error: unknown): void;
}

export interface RevocationStreamOptions {
  url: string;
  serviceKey: string;
  /** Abandon a connection that has been silent this long (a half-open TCP connection never errors). */
  silenceTimeoutMs: number;
  /** First reconnection delay; doubles up to maxBackoffMs, with jitter. */
  minBackoffMs: number;
  maxBackoffMs: number;
  fetch: typeof fetch;
}

/** A refusal of the service key (401/403): reconnecting will not help until an operator acts. */
export class StreamRefusedError extends Error {
  constructor(readonly status: number, readonly problem: unknown) {
    super(`the revocation stream refused the service key (HTTP ${status})`);
    this.name = 'StreamRefusedError';
  }
}


function parseEnded(data: string): SessionEnded | undefined {
  try {
    const v = JSON.parse(data) as Partial<SessionEnded>;
    if (typeof v.sessionId === 'string' && UUID.test(v.sessionId) && typeof v.userId === 'string' && typeof v.reason === 'string' && typeof v.endedAt === 'string') {
      return { sessionId: v.sessionId, userId: v.userId, reason: v.reason, endedAt: v.endedAt };
    }
  } catch {
    // fall through: a malformed event is ignored (the server never sends one)
  }
  return undefined;
}

/**
 * The client side of `GET /revocations/stream`: Server-Sent Events over `fetch` (so the service key
 * travels in a header), parsed by eventsource-parser. Reconnects by itself with exponential back-off
 * and resumes from the last `id:` it received (`Last-Event-ID`), so nothing between two connections
 * is skipped.
 */
export class RevocationStream {
  private lastEventId: string | undefined;
  private controller: AbortController | undefined;
  private closed = false;
  private backoffMs: number;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: RevocationStreamOptions, private readonly handlers: StreamHandlers) {
    this.backoffMs = options.minBackoffMs;
  }

  /** The cursor the next connection resumes from. */
  get cursor(): string | undefined {
    return this.lastEventId;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.controller?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      let error: unknown;
      try {
        await this.connectOnce();
      } catch (e) {
        error = e;
      }
      if (this.closed) break;
      this.handlers.onDisconnected(error);
      // A refused key is an operator's problem: retry slowly, not in a tight loop.
      const delay = error instanceof StreamRefusedError ? this.options.maxBackoffMs : this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs);
      await this.sleep(delay * (0.8 + Math.random() * 0.2));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref?.();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async connectOnce(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    let silence: ReturnType<typeof setTimeout> | undefined;
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(() => controller.abort(new Error('revocation stream silent')), this.options.silenceTimeoutMs);
      silence.unref?.();
    };
    heard();
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', 'x-service-key': this.options.serviceKey };
      if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
      const response = await this.options.fetch(this.options.url, { headers, signal: controller.signal, cache: 'no-store' });
      if (response.status === 401 || response.status === 403) {
        const problem: unknown = await response.json().catch(() => undefined);
        throw new StreamRefusedError(response.status, problem);
      }
      if (!response.ok || !response.body || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        await response.body?.cancel().catch(() => {});
        throw new Error(`revocation stream answered HTTP ${response.status}`);
      }
      const parser = createParser({
        onEvent: (event: EventSourceMessage) => {
          heard();
          this.handlers.onHeard();
          this.dispatch(event);
        },
        onComment: () => {
          heard();
          this.handlers.onHeard();
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
      }
      throw new Error('revocation stream ended');
    } finally {
      clearTimeout(silence);
      controller.abort();
    }
  }

  private dispatch(event: EventSourceMessage): void {
    switch (event.event) {
      case 'revoked': {
        const ended = parseEnded(event.data);
        if (ended) this.handlers.onRevoked(ended);
        break;
      }
      case 'live': {
        let info: LiveInfo = {};
        try {
          info = JSON.parse(event.data) as LiveInfo;
        } catch {
          // an empty live event is fine
        }
        // A connection that reached live is healthy: the next failure starts the back-off afresh.
        this.backoffMs = this.options.minBackoffMs;
        this.handlers.onLive(info);
        break;
      }
      case 'reset':
        this.handlers.onReset();
        break;
    }
    // The cursor moves only after the event was handled: a crash in between resumes before it.
    if (event.id !== undefined && event.id !== '') this.lastEventId = event.id;
  }
}
