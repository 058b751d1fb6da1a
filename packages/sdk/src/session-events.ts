// Hand-written (not generated): GET /sessions/events is a Server-Sent Events stream, not a
// request/response call, so scripts/generate-sdk.ts skips it and this file reads it. The SDK has no
// runtime dependencies, so the event-stream parser is here too (the verifier uses eventsource-parser).
import { BaseAPI, type InitOverrideFunction } from './runtime.ts';

/**
 * A Server-Sent Events parser (WHATWG HTML §9.2.6, "event stream interpretation") small enough to
 * keep the SDK free of runtime dependencies: lines end in CRLF, LF or CR; `event`, `data` (several
 * lines joined by LF) and `id` fields; comment lines (starting with ':') ignored; a blank line
 * dispatches. Tested in test/session-events.test.ts.
 */
export function createEventStreamParser(onEvent: (message: { event: string; data: string; id?: string }) => void) {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
  };
  return {
    feed(chunk: string) {
      buffer += chunk;
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
        if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) return;
        line(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
      }
    },
  };
}

/** What GET /sessions/events reports. */
export type SessionStreamEvent =
  /** Connected: from here on, every change is reported (re-read the list once, for what happened while offline). */
  | { type: 'ready'; sessionId: string }
  /** A device signed in to the account. */
  | { type: 'session.created'; sessionId: string; createdAt: string }
  /** A session ended; `current` is true for the caller's own session, and then the stream closes. */
  | { type: 'session.ended'; sessionId: string; reason: string; endedAt: string; current: boolean }
  /**
   * A key-bound session's refresh token was presented without a proof by its key, and refused
   * (refresh_token.unbound_use): the session's `lastUnboundUseAt` in the list moved.
   */
  | { type: 'session.unbound_use'; sessionId: string; at: string };

const TYPES = new Set(['ready', 'session.created', 'session.ended', 'session.unbound_use']);

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
    const parser = createEventStreamParser((message) => {
      if (!TYPES.has(message.event)) return;
      try {
        queue.push({ type: message.event, ...(JSON.parse(message.data) as object) } as SessionStreamEvent);
      } catch {
        // not ours: ignore
      }
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
