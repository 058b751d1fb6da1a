// Hand-written (not generated): GET /sessions/events is a Server-Sent Events stream, not a
// request/response call, so scripts/generate-sdk.ts skips it and this file reads it.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { BaseAPI, type InitOverrideFunction } from './runtime.ts';

/** What GET /sessions/events reports. */
export type SessionStreamEvent =
  /** Connected: from here on, every change is reported (re-read the list once, for what happened while offline). */
  | { type: 'ready'; sessionId: string }
  /** A device signed in to the account. */
  | { type: 'session.created'; sessionId: string; createdAt: string }
  /** A session ended; `current` is true for the caller's own session, and then the stream closes. */
  | { type: 'session.ended'; sessionId: string; reason: string; endedAt: string; current: boolean };

const TYPES = new Set(['ready', 'session.created', 'session.ended']);

/**
 * Live changes to the caller's sessions, as an async iterator over one connection:
 *
 * ```ts
 * for await (const event of new SessionEventsApi(config).sessionEvents({ signal })) {
 *   if (event.type === 'session.ended' && event.current) showSignIn(event.reason);
 * }
 * ```
 *
 * The iteration ends when the server closes the stream (the caller's session ended, or the access
 * token it was opened with expired: open it again with a fresh one) or when `signal` aborts; it
 * throws ResponseError for a refused request (401) and FetchError when the connection fails.
 * Reconnecting, with back-off, is the caller's choice (the devices page does it).
 */
export class SessionEventsApi extends BaseAPI {
  async *sessionEvents(init: { signal?: AbortSignal } = {}, initOverrides?: RequestInit | InitOverrideFunction): AsyncGenerator<SessionStreamEvent, void, undefined> {
    const response = await this.execute(
      { name: 'sessionEvents', method: 'GET', path: '/sessions/events', bearer: 'JWT-auth' },
      {},
      async (context) => {
        const overrides = typeof initOverrides === 'function' ? await initOverrides(context) : initOverrides;
        return { ...overrides, headers: { ...context.init.headers, accept: 'text/event-stream', ...overrides?.headers }, signal: init.signal ?? overrides?.signal ?? null, cache: 'no-store' };
      },
    );
    const body = response.body;
    if (!body) return;
    const queue: SessionStreamEvent[] = [];
    const parser = createParser({
      onEvent(message: EventSourceMessage) {
        if (!message.event || !TYPES.has(message.event)) return;
        try {
          queue.push({ type: message.event, ...(JSON.parse(message.data) as object) } as SessionStreamEvent);
        } catch {
          // not ours: ignore
        }
      },
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        parser.feed(decoder.decode(value, { stream: true }));
        while (queue.length > 0) yield queue.shift()!;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }
}
