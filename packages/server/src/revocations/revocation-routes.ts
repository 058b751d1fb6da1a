import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { SessionEvent } from '../events/session-event.ts';
import { problemResponses, ref } from '../http/problem.ts';
import { iso } from '../http/serialize.ts';
import { sessionEndTypes, type EventLog } from './event-log.ts';
import { parseCursor, RevocationList, RevocationListQuery } from './revocation-schemas.ts';
import { requireServiceKey, type ServiceKeyCheck } from './service-key-check.ts';
import type { SessionEventHub } from './session-event-hub.ts';
import { SseStream, type SseRegistry } from './sse.ts';

export interface RevocationRoutesOptions {
  serviceKeys: ServiceKeyCheck;
  hub: SessionEventHub;
  log: EventLog;
  registry: SseRegistry;
  clock: Clock;
  /** The access-token lifetime: ends older than this cannot matter (their tokens have expired). */
  tokenLifetimeMs: number;
  /** Late-commit bound shared with the hub: a resumed stream re-reads this far before its cursor. */
  overlapMs: number;
  /** How often the keys of open streams are checked again: a revoked key's streams end within this. */
  keyRecheckMs: number;
}

const SCOPE = 'revocations:read';
const PAGE = 1000;
/** Clocks of instances disagree a little: the snapshot reaches this much further back. */
const CLOCK_SLACK_MS = 60_000;
const isEnd = (e: SessionEvent) => e.type === 'session.revoked' || e.type === 'session.expired';
const endJson = (e: SessionEvent) => ({ sessionId: e.sessionId, userId: e.userId, reason: e.reason ?? 'unknown', endedAt: iso(e.occurredAtMs) });

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

  app.get('/revocations/stream', {
    schema: {
      operationId: 'Revocations_stream',
      tags,
      security,
      summary: 'Every session end, as Server-Sent Events',
      description:
        'First every session that ended within the last access-token lifetime (the snapshot), then `event: live`, then each session end as it commits, as `event: revoked` with data `{"sessionId","userId","reason","endedAt"}`. Every event carries an `id:`; reconnect with `Last-Event-ID` to resume with nothing skipped (a few events before the cursor may come again). A cursor older than the retained window answers `event: reset` and restarts from the snapshot. A comment line is sent every second as a heartbeat. The stream ends when the service key is revoked and when the server shuts down.',
      headers: { type: 'object', properties: { 'last-event-id': { type: 'string', description: 'The `id:` of the last event received.' } } },
      response: {
        200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        ...problemResponses(400, 401, 403),
      },
    },
  }, async (request, reply) => {
    const rawCursor = request.headers['last-event-id'];
    let resume: number | undefined;
    if (rawCursor !== undefined) {
      resume = typeof rawCursor === 'string' ? parseCursor(rawCursor) : undefined;
      if (resume === undefined) throw new AppError('validation_failed', 'Last-Event-ID must be an id received from this stream.');
    }
    if (registry.isClosing) throw new AppError('service_unavailable', 'The server is shutting down.', { headers: { 'retry-after': '1' } });

    reply.hijack();
    const stream = new SseStream(reply.raw, reply.getHeaders());
    registry.add(stream);
    const presented = request.headers['x-service-key'] as string;
    const keyId = request.serviceKeyId ?? presented;
    const watch = openByKey.get(keyId) ?? { presented, streams: new Set() };
    openByKey.set(keyId, watch);
    watch.streams.add(stream);
    stream.onClose(() => {
      watch.streams.delete(stream);
      if (watch.streams.size === 0 && openByKey.get(keyId) === watch) openByKey.delete(keyId);
    });

    // Ids only grow on the wire, so a client's Last-Event-ID always marks everything up to it as seen.
    let position = 0;
    const sendEnd = (e: SessionEvent) => {
      position = Math.max(position, e.id);
      stream.send('revoked', JSON.stringify(endJson(e)), String(position));
    };
    // Subscribe first, catch up second: what commits meanwhile is buffered, not lost.
    let buffer: SessionEvent[] | undefined = [];
    const seen = new Set<number>();
    let unsubscribe: () => void;
    try {
      unsubscribe = await hub.subscribe((events) => {
        for (const e of events) {
          if (!isEnd(e)) continue;
          if (buffer) buffer.push(e);
          else sendEnd(e);
        }
      });
    } catch (error) {
      stream.close();
      request.log.warn({ err: error }, 'revocation stream could not start');
      return;
    }
    stream.onClose(unsubscribe);
    stream.write('retry: 1000\n\n');

    try {
      const retentionStart = retentionStartMs();
      let sinceMs = retentionStart;
      if (resume !== undefined) {
        const stamp = resume === 0 ? undefined : await log.stampOf(resume);
        if (stamp === undefined || stamp < retentionStart) {
          // Older than what matters (or unknown): say so, and start again from the snapshot.
          stream.send('reset', JSON.stringify({ reason: 'cursor_not_retained' }));
          resume = undefined;
        } else {
          // Re-read the overlap before the cursor: an end that committed late is not skipped.
          sinceMs = Math.max(stamp - options.overlapMs, retentionStart);
        }
      }
      const deliver = (events: SessionEvent[]) => {
        for (const e of events) {
          if (seen.has(e.id)) continue;
          seen.add(e.id);
          sendEnd(e);
        }
      };
      for (let after = 0; !stream.isClosed; ) {
        const page = await log.stampedSince(sinceMs, after, PAGE, sessionEndTypes);
        deliver(page);
        if (page.length < PAGE) break;
        after = page.at(-1)!.id;
      }
      if (resume !== undefined) {
        for (let after = resume; !stream.isClosed; ) {
          const page = await log.after(after, PAGE, sessionEndTypes);
          deliver(page);
          if (page.length < PAGE) break;
          after = page.at(-1)!.id;
        }
      }
      const buffered = buffer;
      buffer = undefined;
      deliver(buffered);
      seen.clear();
      position = Math.max(position, hub.position);
      stream.send('live', JSON.stringify({ heartbeatMs: registry.heartbeatMs, tokenLifetimeSeconds: Math.round(options.tokenLifetimeMs / 1000) }), String(position));
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
        'The same session ends as the stream, oldest first, starting from those that ended within the last access-token lifetime. An end is listed once it is 5 s old (a transaction that committed late cannot be passed over), so poll with `after` set to the last `next`.',
      querystring: RevocationListQuery,
      response: { 200: ref(RevocationList), ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const { after, limit } = request.query;
    const nowMs = clock.now();
    const retentionStart = retentionStartMs();
    let afterId = after === undefined ? 0 : parseCursor(after)!;
    let reset = false;
    if (afterId > 0) {
      const stamp = await log.stampOf(afterId);
      if (stamp === undefined || stamp < retentionStart) {
        reset = true;
        afterId = 0;
      }
    }
    const page = await log.stampedSince(retentionStart, afterId, limit, sessionEndTypes);
    // Only settled ends, stopping at the first unsettled one: a lower id committing late lands
    // before the cursor passes it (the webhook outbox's rule, with the revocation feed's bound).
    const settled: SessionEvent[] = [];
    for (const e of page) {
      if (e.occurredAtMs > nowMs - options.overlapMs) break;
      settled.push(e);
    }
    const next = String(settled.at(-1)?.id ?? afterId);
    return { data: settled.map(endJson), next, ...(reset ? { reset } : {}) };
  });
};
