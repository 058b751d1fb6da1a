import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { isSessionEnd, sessionEndTypes, type SessionEvent } from '../events/session-event.ts';
import { problemResponses, ref } from '../http/problem.ts';
import { iso } from '../http/serialize.ts';
import { InvalidLogPositionError, type EventLog, type LogEvent } from './event-log.ts';
import { formatCursor, parseCursor, RevocationList, RevocationListQuery, type StreamCursor } from './revocation-schemas.ts';
import { requireServiceKey } from '../service-keys/require-service-key.ts';
import type { ServiceKeyStore } from '../service-keys/service-key-store.ts';
import type { SessionEventHub } from './session-event-hub.ts';
import { openStream, type SseRegistry, type SseStream } from './sse.ts';

export interface RevocationRoutesOptions {
  serviceKeys: ServiceKeyStore;
  hub: SessionEventHub;
  log: EventLog;
  registry: SseRegistry;
  clock: Clock;
  /** The access-token lifetime: ends older than this cannot matter (their tokens have expired). */
  tokenLifetimeMs: number;
  /** How often the keys of open streams are checked again: a revoked key's streams end within this. */
  keyRecheckMs: number;
}

const SCOPE = 'revocations:read' as const;
const PAGE = 1000;
const SNAPSHOT_ID = Symbol('snapshot');
/** The snapshot is bounded: ends within one token lifetime, at most this many (older ones first dropped). */
const SNAPSHOT_MAX = 100_000;
/** Clocks of instances disagree a little: the snapshot reaches this much further back. */
const CLOCK_SLACK_MS = 60_000;
const endJson = (e: SessionEvent) => {
  // Only session ends are read here (sessionEndTypes); each names its session. One without would be a bug.
  if (e.sessionId === null) throw new Error(`event ${e.id} (${e.type}) has no session`);
  return { sessionId: e.sessionId, userId: e.userId, reason: e.reason ?? 'unknown', endedAt: iso(e.occurredAtMs) };
};

const security = [{ 'service-key': [] }];
const tags = ['Revocations'];

/**
 * Services learn of every session end here, authorised by a service key with `revocations:read`
 * (user tokens and admin keys are refused: 401). The stream is what @sessiond/verify keeps its
 * memory from; GET /revocations is the same log for pollers.
 */
export const revocationRoutes: FastifyPluginAsyncTypebox<RevocationRoutesOptions> = async (app, options) => {
  const { hub, log, registry, clock } = options;
  requireServiceKey(app, { keys: options.serviceKeys, requiredScope: SCOPE });
  const retentionStartMs = () => clock.now() - options.tokenLifetimeMs - CLOCK_SLACK_MS;

  // Keys of open streams, checked again every keyRecheckMs (once per key, not per stream): a key
  // revoked while streaming ends its streams within that bound.
  const openByKey = new Map<string, { presented: string; streams: Set<SseStream> }>();
  const recheck = setInterval(() => {
    for (const [id, entry] of openByKey) {
      options.serviceKeys.verify(entry.presented).then(
        (key) => {
          if (!key || key.id !== id || !key.scopes.includes(SCOPE)) for (const s of entry.streams) s.close();
        },
        () => {}, // database trouble: keep streaming; the next round checks again
      );
    }
  }, options.keyRecheckMs);
  recheck.unref();
  app.addHook('onClose', async () => clearInterval(recheck));

  /** Reads the feed after `position` to what is visible now, page by page; a malformed position is a 400. */
  async function* pagesAfter(position: string) {
    for (;;) {
      let page;
      try {
        page = await log.after(position, { limit: PAGE, types: sessionEndTypes });
      } catch (error) {
        if (error instanceof InvalidLogPositionError) throw new AppError('validation_failed', 'The cursor is not one this stream handed out.');
        throw error;
      }
      yield page;
      if (!page.more) return;
      position = page.position;
    }
  }

  /** Every end stamped within the token lifetime (the snapshot), oldest first. */
  async function snapshot(): Promise<SessionEvent[]> {
    const out: SessionEvent[] = [];
    for (let afterId = 0; out.length < SNAPSHOT_MAX; ) {
      const page = await log.stampedSince(retentionStartMs(), { afterId, limit: PAGE, types: sessionEndTypes });
      out.push(...page);
      if (page.length < PAGE) break;
      afterId = page.at(-1)!.id;
    }
    return out;
  }

  app.get('/revocations/stream', {
    schema: {
      operationId: 'Revocations_stream',
      tags,
      security,
      summary: 'Every session end, as Server-Sent Events',
      description:
        'First every session that ended within the last access-token lifetime (the snapshot), then `event: live`, then each session end as it commits, as `event: revoked` with data `{"sessionId","userId","reason","endedAt"}`. Every event carries an `id:`; reconnect with `Last-Event-ID` to resume with nothing skipped (an event may come twice). A cursor older than the token lifetime (or one handed out during a snapshot) answers `event: reset` and restarts from the snapshot; a malformed one is a 400. A comment line is sent every second as a heartbeat. The stream ends when the service key is revoked and when the server shuts down.',
      headers: { type: 'object', properties: { 'last-event-id': { type: 'string', description: 'The `id:` of the last event received.' } } },
      response: {
        200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        ...problemResponses(400, 401, 403),
      },
    },
  }, async (request, reply) => {
    const rawCursor = request.headers['last-event-id'];
    let cursor: StreamCursor | undefined;
    if (rawCursor !== undefined) {
      cursor = typeof rawCursor === 'string' ? parseCursor(rawCursor) : undefined;
      if (!cursor) throw new AppError('validation_failed', 'Last-Event-ID must be an id received from this stream.');
    }
    if (registry.isClosing) throw new AppError('service_unavailable', 'The server is shutting down.', { retryAfterSeconds: 1 });
    // Older than the token lifetime: nothing after it can matter any more than the snapshot says.
    const reset = cursor !== undefined && cursor.issuedAtMs < retentionStartMs();
    if (reset) cursor = undefined;

    // Subscribe first, catch up second: what commits meanwhile is buffered, not lost.
    let buffer: LogEvent[] | undefined = [];
    let stream: SseStream | undefined;
    // A snapshot event's id (SNAPSHOT_ID) resumes as "older than retained": the snapshot again.
    const sendEnd = (e: SessionEvent, position: string | typeof SNAPSHOT_ID) =>
      stream!.send('revoked', JSON.stringify(endJson(e)), position === SNAPSHOT_ID ? formatCursor(0, '0') : formatCursor(clock.now(), position));
    const unsubscribe = await hub.subscribe((events) => {
      for (const e of events) {
        if (!isSessionEnd(e.type)) continue;
        if (buffer) buffer.push(e);
        else sendEnd(e, e.position);
      }
    });
    // The first read happens before the response starts, so a bad cursor is still a 400.
    let pages: AsyncGenerator<{ events: LogEvent[]; position: string }>;
    let first: IteratorResult<{ events: LogEvent[]; position: string }>;
    let snap: SessionEvent[] = [];
    try {
      const startPosition = cursor?.position ?? (await log.head());
      if (!cursor) snap = await snapshot();
      pages = pagesAfter(startPosition);
      first = await pages.next();
    } catch (error) {
      unsubscribe();
      throw error;
    }

    stream = openStream(request, reply, registry);
    stream.onClose(unsubscribe);
    const presented = request.headers['x-service-key'] as string;
    const keyId = request.serviceKey?.id ?? presented;
    const watch = openByKey.get(keyId) ?? { presented, streams: new Set() };
    openByKey.set(keyId, watch);
    watch.streams.add(stream);
    const open = stream;
    stream.onClose(() => {
      watch.streams.delete(open);
      if (watch.streams.size === 0 && openByKey.get(keyId) === watch) openByKey.delete(keyId);
    });
    stream.write('retry: 1000\n\n');

    try {
      if (reset) stream.send('reset', JSON.stringify({ reason: 'cursor_not_retained' }), formatCursor(0, '0'));
      const seen = new Set<number>();
      // Snapshot events resume as "from the start": a connection lost during the snapshot gets it again.
      for (const e of snap) {
        seen.add(e.id);
        sendEnd(e, SNAPSHOT_ID);
      }
      let position: string | undefined = cursor?.position;
      for (let r = first; !r.done && !stream.isClosed; r = await pages.next()) {
        for (const e of r.value.events) {
          if (seen.has(e.id)) continue;
          seen.add(e.id);
          sendEnd(e, e.position);
        }
        position = r.value.position;
      }
      const buffered = buffer;
      buffer = undefined;
      for (const e of buffered) if (!seen.has(e.id)) sendEnd(e, e.position);
      // pagesAfter yields at least one page, so position is set here.
      stream.send('live', JSON.stringify({ heartbeatMs: registry.heartbeatMs, tokenLifetimeSeconds: Math.round(options.tokenLifetimeMs / 1000) }), formatCursor(clock.now(), position ?? '0'));
    } catch (error) {
      // The client sees the stream end and resumes from its last id.
      request.log.warn({ err: error }, 'revocation stream catch-up failed');
      stream.close();
    }
  });

  app.get('/revocations', {
    schema: {
      operationId: 'Revocations_list',
      tags,
      security,
      summary: 'Session ends, page by page (for consumers that poll)',
      description:
        'Without `after`: every session that ended within the last access-token lifetime (the snapshot; `limit` does not apply), and `next`. With `after` (a `next`, or an `id:` of the stream): the ends committed since, oldest first, at most `limit`. A cursor older than the token lifetime gives the snapshot again, with `reset: true`.',
      querystring: RevocationListQuery,
      response: { 200: ref(RevocationList), ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const { after, limit } = request.query;
    let cursor = after === undefined ? undefined : parseCursor(after);
    if (after !== undefined && !cursor) throw new AppError('validation_failed', 'after must be a cursor this API handed out.');
    const reset = cursor !== undefined && cursor.issuedAtMs < retentionStartMs();
    if (reset || cursor?.issuedAtMs === 0) cursor = undefined;
    if (!cursor) {
      const head = await log.head();
      const data = (await snapshot()).map(endJson);
      return { data, next: formatCursor(clock.now(), head), ...(reset ? { reset } : {}) };
    }
    const pages = pagesAfter(cursor.position);
    const first = await pages.next();
    await pages.return(undefined);
    const page = first.done ? { events: [], position: cursor.position } : first.value;
    const events = page.events.slice(0, limit);
    const position = events.length < page.events.length ? events.at(-1)!.position : page.position;
    return { data: events.map(endJson), next: formatCursor(clock.now(), position) };
  });
};
