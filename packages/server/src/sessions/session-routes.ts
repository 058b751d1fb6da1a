import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RefreshCookie } from '../auth/refresh-cookie.ts';
import { requireBearer, principalOf } from '../http/authenticate.ts';
import { problemResponses, ref } from '../http/problem.ts';
import { iso } from '../http/serialize.ts';
import { canonicalUuid, uuidRegex } from '../http/uuid.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import type { Dpop } from '../dpop/dpop-http.ts';
import {
  ListQuery,
  RevokeAllQuery,
  RevokeAllResult,
  RevokeResult,
  SessionCount,
  SessionIdParams,
  SessionList,
  SessionValidation,
} from './session-schemas.ts';
import type { FastRoute } from '../http/fast-path.ts';
import type { SessionService, SessionView, Validation } from './session-service.ts';
import { sessionJson } from './session-json.ts';

export interface SessionRoutesOptions {
  sessions: SessionService;
  accessTokens: AccessTokens;
  dpop: Dpop;
  /** Cleared when the caller signs out everywhere (auth/refresh-cookie.ts). */
  refreshCookie: RefreshCookie;
}

/** The answer of GET /sessions/validate/{id}, from both paths. */
const validationJson = (sessionId: string, result: Validation) => ({
  sessionId,
  valid: result.valid,
  expiresAt: result.expiresAtMs === null ? null : iso(result.expiresAtMs),
});

/** The answer of GET /sessions, from both paths. */
const listJson = (list: SessionView[], total: number, page: number, limit: number) => ({
  data: list.map(sessionJson),
  meta: { page, limit, total, totalPages: Math.ceil(total / limit) },
});

const DEFAULT_PAGE = 1;
const DEFAULT_LIMIT = 20;

/**
 * The session check, and the caller's list and count without query parameters, as the fast path
 * answers them (http/fast-path.ts); the list and count read the database as their handlers do.
 */
export function sessionFastRoutes(sessions: SessionService): FastRoute[] {
  return [{
    path: '/sessions',
    route: '/sessions',
    answer: async (principal) => {
      const { sessions: list, total } = await sessions.list(principal.userId, principal.sessionId, DEFAULT_PAGE, DEFAULT_LIMIT);
      return listJson(list, total, DEFAULT_PAGE, DEFAULT_LIMIT);
    },
  }, {
    path: '/sessions/count',
    route: '/sessions/count',
    answer: async (principal) => ({ count: await sessions.count(principal.userId) }),
  }, {
    path: '/sessions/validate/',
    param: uuidRegex, // SessionId's pattern
    route: '/sessions/validate/:sessionId',
    answer: (principal, param) => {
      // As the validator does for the full path: any case in, the canonical form from here on.
      const sessionId = canonicalUuid(param);
      const result = sessions.validateCached(principal.userId, sessionId);
      return result && validationJson(sessionId, result);
    },
  }];
}

const security = [{ 'JWT-auth': [] }];
const tags = ['Sessions'];

/**
 * The five operations of shared/spec/SessionsApi.md. operationIds are chosen so that
 * openapi-generator's typescript-fetch client names them exactly as that document does
 * (SessionController_getActiveSessions -> sessionControllerGetActiveSessions).
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRoutesOptions> = async (app, { sessions, accessTokens, dpop, refreshCookie }) => {
  requireBearer(app, { accessTokens, sessions, dpop });

  app.get('/sessions', {
    schema: {
      operationId: 'SessionController_getActiveSessions',
      tags,
      summary: 'Get all active sessions for current user',
      description: 'Active (neither revoked nor expired) sessions of the caller, most recently active first, paginated.',
      security,
      querystring: ListQuery,
      response: { 200: { description: 'List of active sessions with pagination', ...ref(SessionList) }, ...problemResponses(400, 401) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const { currentSessionId } = request.query;
    const page = request.query.page ?? DEFAULT_PAGE;
    const limit = request.query.limit ?? DEFAULT_LIMIT;
    const { sessions: list, total } = await sessions.list(principal.userId, currentSessionId ?? principal.sessionId, page, limit);
    return listJson(list, total, page, limit);
  });

  app.get('/sessions/count', {
    schema: {
      operationId: 'SessionController_getSessionCount',
      tags,
      summary: 'Get active session count',
      description: 'How many sessions (devices) of the caller are active now.',
      security,
      response: { 200: { description: 'Session count', ...ref(SessionCount) }, ...problemResponses(401) },
    },
  }, async (request) => ({ count: await sessions.count(principalOf(request).userId) }));

  app.delete('/sessions', {
    schema: {
      operationId: 'SessionController_revokeAllSessions',
      tags,
      summary: 'Revoke all sessions (logout from all devices)',
      description:
        'Revokes every active session of the caller, the current one included. With keepCurrent=true, ' +
        'revokes all the others and keeps the session of the token used ("sign out of all other devices").',
      security,
      querystring: RevokeAllQuery,
      response: { 200: { description: 'All sessions revoked successfully', ...ref(RevokeAllResult) }, ...problemResponses(400, 401) },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const keepCurrent = request.query.keepCurrent === true;
    const revokedCount = await sessions.revokeAll(principal.userId, 'user_revoked_all', keepCurrent ? { exceptSessionId: principal.sessionId } : {});
    // This device's session ended too: drop its (now useless) refresh cookie, as logout does.
    if (!keepCurrent) refreshCookie.clear(request, reply);
    return { revokedCount };
  });

  app.delete('/sessions/:sessionId', {
    schema: {
      operationId: 'SessionController_revokeSession',
      tags,
      summary: 'Revoke a specific session',
      description: 'Not yours, unknown and already revoked all answer the same 404, so ids of other users cannot be probed.',
      security,
      params: SessionIdParams,
      response: { 200: { description: 'Session revoked successfully', ...ref(RevokeResult) }, ...problemResponses(400, 401, 404) },
    },
  }, async (request) => {
    const { sessionId } = request.params;
    await sessions.revoke(principalOf(request).userId, sessionId, 'user_revoked');
    return { sessionId, revoked: true as const };
  });

  app.get('/sessions/validate/:sessionId', {
    schema: {
      operationId: 'SessionController_validateSession',
      tags,
      summary: 'Validate if session is still active',
      description: "Another user's session answers valid:false, exactly like one that does not exist.",
      security,
      params: SessionIdParams,
      response: { 200: { description: 'Session validation result', ...ref(SessionValidation) }, ...problemResponses(400, 401) },
    },
  }, (request, reply) => {
    const { sessionId } = request.params;
    const userId = principalOf(request).userId;
    // From the trusted cache without a promise when it can answer; otherwise read.
    const cached = sessions.validateCached(userId, sessionId);
    if (cached) {
      // Sent, and undefined returned: Fastify then awaits nothing (a returned reply is a thenable).
      reply.send(validationJson(sessionId, cached));
      return;
    }
    return sessions.validate(userId, sessionId).then((result) => validationJson(sessionId, result));
  });
};
