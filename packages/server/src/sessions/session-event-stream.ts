import type { FastifyPluginAsync } from 'fastify';
import { BEARER, principalOf, requireBearer } from '../http/authenticate.ts';
import { DPOP_SCHEME, type Dpop } from '../dpop/dpop-http.ts';
import { problemResponses } from '../http/problem.ts';
import { iso } from '../http/serialize.ts';
import { isSessionEnd, type SessionEvent } from '../events/session-event.ts';
import type { SessionEventHub } from '../revocations/session-event-hub.ts';
import { openStream, type SseRegistry } from '../revocations/sse.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import type { Clock } from '../clock.ts';
import type { SessionService } from './session-service.ts';

export interface SessionEventStreamOptions {
  sessions: SessionService;
  accessTokens: AccessTokens;
  dpop: Dpop;
  hub: SessionEventHub;
  registry: SseRegistry;
  /** How often a comment line is sent on a quiet stream. */
  heartbeatMs: number;
  clock: Clock;
}

/**
 * GET /sessions/events: a signed-in device hears, as Server-Sent Events, when its own session ends
 * (`session.ended` with `current: true`, then the stream closes) and when the account's device list
 * changes (`session.created`, `session.ended` of another session, `session.unbound_use` when a
 * key-bound session's refresh token was tried without its key: the list now warns on that device). Browsers' EventSource cannot send
 * a bearer token, so the devices page reads it with fetch. The stream also closes when the access
 * token it was opened with expires: the client reconnects with a fresh one, so a stream never
 * outlives the credential that opened it.
 */
export const sessionEventStream: FastifyPluginAsync<SessionEventStreamOptions> = async (app, { sessions, accessTokens, dpop, hub, registry, heartbeatMs, clock }) => {
  requireBearer(app, { accessTokens, sessions, dpop });

  app.get('/sessions/events', {
    schema: {
      operationId: 'SessionController_events',
      tags: ['Sessions'],
      security: [{ 'JWT-auth': [] }],
      summary: "Live changes to the caller's sessions (Server-Sent Events)",
      description:
        '`event: ready` once connected; `event: session.created` `{"sessionId","createdAt"}` when a device signs in; `event: session.ended` `{"sessionId","reason","endedAt","current"}` when a session ends (with `current: true` for the caller\'s own session, after which the stream closes); `event: session.unbound_use` `{"sessionId","at"}` when a key-bound session\'s refresh token was presented without its key (refused; the list shows `lastUnboundUseAt`). ' +
        `A comment line every ${heartbeatMs / 1000} seconds as a heartbeat. The stream closes when the access token expires; reconnect with a fresh one.`,
      response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...problemResponses(401) },
    },
  }, async (request, reply) => {
    const { userId, sessionId } = principalOf(request);
    // Either scheme: a key-bound token (Authorization: DPoP) ends its stream at its expiry too.
    const authorization = request.headers.authorization ?? '';
    const token = (BEARER.exec(authorization) ?? DPOP_SCHEME.exec(authorization))?.[1];
    const expiresAtMs = token ? accessTokens.verifyCached(token)?.expiresAtMs : undefined;

    const stream = openStream(request, reply, registry, heartbeatMs);
    const ended = (e: Pick<SessionEvent, 'sessionId' | 'reason' | 'occurredAtMs'>) => {
      const current = e.sessionId === sessionId;
      stream.send('session.ended', JSON.stringify({ sessionId: e.sessionId, reason: e.reason ?? 'ended', endedAt: iso(e.occurredAtMs), current }));
      if (current) stream.close();
    };
    const unsubscribe = await hub.subscribe((events) => {
      for (const e of events) {
        if (e.userId !== userId || stream.isClosed) continue;
        if (e.type === 'session.created' && e.sessionId !== sessionId) {
          stream.send('session.created', JSON.stringify({ sessionId: e.sessionId, createdAt: iso(e.occurredAtMs) }));
        } else if (isSessionEnd(e.type)) {
          ended(e);
        } else if (e.type === 'refresh_token.unbound_use') {
          stream.send('session.unbound_use', JSON.stringify({ sessionId: e.sessionId, at: iso(e.occurredAtMs) }));
        }
      }
    });
    stream.onClose(unsubscribe);
    if (expiresAtMs !== undefined) {
      const timer = setTimeout(() => stream.close(), Math.max(0, expiresAtMs - clock.now()));
      timer.unref();
      stream.onClose(() => clearTimeout(timer));
    }
    stream.write('retry: 1000\n\n');
    stream.send('ready', JSON.stringify({ sessionId }));
    // The session may have ended between the authentication above and the subscription: ask once
    // more now that nothing can be missed.
    const check = await sessions.validate(userId, sessionId).catch(() => undefined);
    if (check && !check.valid) ended({ sessionId, reason: 'ended', occurredAtMs: clock.now() });
  });
};
