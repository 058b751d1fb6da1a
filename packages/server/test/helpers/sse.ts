import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: any;
}

/**
 * An open event stream, read by a test: every event as it arrives (parsed with eventsource-parser,
 * as @sessiond/verify reads it), comments counted, `next(event)` waits for the next one of a type.
 */
export interface SseReader {
  status: number;
  headers: Headers;
  events: SseEvent[];
  comments: number;
  closed: Promise<void>;
  isClosed(): boolean;
  /** Resolves with the first event of this type at index >= `from` (default: not yet consumed by a previous next). */
  next(event: string, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseReader> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  let comments = 0;
  let consumed = 0;
  let done = false;
  const parser = createParser({
    onEvent(m: EventSourceMessage) {
      let data: unknown = m.data;
      try {
        data = JSON.parse(m.data);
      } catch {
        // keep the text
      }
      events.push({ event: m.event ?? 'message', id: m.id, data });
      for (const w of waiters.splice(0)) w();
    },
    onComment() {
      comments++;
    },
  });
  const closed = (async () => {
    if (!response.body || response.status !== 200) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // aborted
    }
  })().finally(() => {
    done = true;
    for (const w of waiters.splice(0)) w();
  });
  return {
    status: response.status,
    headers: response.headers,
    events,
    get comments() {
      return comments;
    },
    closed,
    isClosed: () => done,
    async next(event, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = events.findIndex((e, i) => i >= consumed && e.event === event);
        if (index >= 0) {
          consumed = index + 1;
          return events[index]!;
        }
        if (done) throw new Error(`stream closed before event ${event}; got ${JSON.stringify(events.slice(consumed))}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no event ${event} within ${timeoutMs} ms; got ${JSON.stringify(events.slice(consumed))}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () => controller.abort(),
  };
}
