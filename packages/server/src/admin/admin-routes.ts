import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../errors.ts';
import type { EventStore } from '../events/session-event.ts';
import { problemResponses, ref } from '../http/problem.ts';
import { iso } from '../http/serialize.ts';
import { sessionJson } from '../sessions/session-json.ts';
import { RevokeAllResult, RevokeResult } from '../sessions/session-schemas.ts';
import type { SessionService } from '../sessions/session-service.ts';
import type { RevokeReason } from '../sessions/session.ts';
import { normalizeEmail } from '../users/user.ts';
import type { UserStore } from '../users/user-store.ts';
import type { User } from '../users/user.ts';
import type { AdminKeyStore } from './admin-key-store.ts';
import {
  AdminSessionIdParams,
  AdminSessionList,
  AdminSessionsQuery,
  AdminStats,
  AdminUser,
  EventsQuery,
  FindUserQuery,
  SessionEventList,
  UserIdParams,
} from './admin-schemas.ts';

export interface AdminRoutesOptions {
  keys: AdminKeyStore;
  /** Account deletion (auth/auth-service.ts): the same path as a user deleting their own account. */
  deleteUser: (userId: string) => Promise<{ revokedCount: number } | undefined>;
  sessions: SessionService;
  users: UserStore;
  events: EventStore;
}

const security = [{ 'admin-key': [] }];
/** The admin view has no "current" session. */
const withoutCurrent = ({ isCurrent: _current, ...rest }: ReturnType<typeof sessionJson>) => rest;
const tags = ['Admin'];

/** A user as the admin API shows it (the AdminUser schema), with the number of active sessions. */
export const adminUserJson = async (user: User, sessions: SessionService) => ({
  id: user.id,
  email: user.email,
  name: user.name,
  createdAt: iso(user.createdAtMs),
  externalId: user.externalId,
  activeSessionCount: await sessions.count(user.id),
});

/**
 * The operators' API: find a user, see and end their sessions, read the audit log. Authorised by
 * admin API keys (created with `npm run cli -- admin-keys create`), never by end-user tokens, in a
 * scope of its own whose hook runs before anything else.
 */
export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (app, { keys, sessions, users, events, deleteUser }) => {
  app.addHook('onRequest', async (request) => {
    const presented = request.headers['x-admin-key'];
    if (typeof presented !== 'string' || presented.length > 200 || !(await keys.verify(presented))) {
      throw new AppError('invalid_admin_key', 'Send a valid admin API key in the X-Admin-Key header.');
    }
  });

  const userJson = (user: User) => adminUserJson(user, sessions);

  app.get('/admin/users', {
    schema: {
      operationId: 'AdminController_findUser',
      tags,
      security,
      summary: 'Look a user up by email',
      description: 'Exact match on the email, case-insensitive; 404 when no account has it.',
      querystring: FindUserQuery,
      response: { 200: { description: 'The user', ...ref(AdminUser) }, ...problemResponses(400, 401, 404) },
    },
  }, async (request) => {
    const user = await users.findByEmail(normalizeEmail(request.query.email));
    if (!user) throw new AppError('user_not_found', 'No user has this email.');
    return userJson(user);
  });

  app.get('/admin/users/:userId', {
    schema: {
      operationId: 'AdminController_getUser',
      tags,
      security,
      summary: 'A user by id, with the number of active sessions',
      description: '404 when no account has this id.',
      params: UserIdParams,
      response: { 200: { description: 'The user', ...ref(AdminUser) }, ...problemResponses(400, 401, 404) },
    },
  }, async (request) => {
    const user = await users.findById(request.params.userId);
    if (!user) throw new AppError('user_not_found', 'No user has this id.');
    return userJson(user);
  });

  app.delete('/admin/users/:userId', {
    schema: {
      operationId: 'AdminController_deleteUser',
      tags,
      security,
      summary: 'Delete a user: every session ends at once (reason account_deleted), then the account is deleted',
      description: 'Every token of the account is refused from the next request on, on every instance. Ended sessions and events stay for their retention.',
      params: UserIdParams,
      response: { 200: { description: 'User deleted; how many sessions were ended', ...ref(RevokeAllResult) }, ...problemResponses(400, 401, 404) },
    },
  }, async (request) => {
    const deleted = await deleteUser(request.params.userId);
    if (!deleted) throw new AppError('user_not_found', 'No user has this id.');
    return deleted;
  });

  app.get('/admin/users/:userId/sessions', {
    schema: {
      operationId: 'AdminController_listUserSessions',
      tags,
      security,
      summary: "A user's sessions, ended ones included (filter with status)",
      description: 'Most recently active first, paginated; status=active|ended|all (default all).',
      params: UserIdParams,
      querystring: AdminSessionsQuery,
      response: { 200: { description: 'Sessions, newest first', ...ref(AdminSessionList) }, ...problemResponses(400, 401) },
    },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const limit = request.query.limit ?? 20;
    const { sessions: list, total } = await sessions.listAll(request.params.userId, request.query.status ?? 'all', page, limit);
    return {
      data: list.map((s) => ({
        ...withoutCurrent(sessionJson(s)),
        userId: request.params.userId,
        active: s.active,
        revokedAt: s.revokedAtMs === null ? null : iso(s.revokedAtMs),
        endReason: s.active ? null : s.revokeReason,
      })),
      meta: { page, limit, total, totalPages: Math.ceil(total / limit) },
    };
  });

  app.delete('/admin/users/:userId/sessions', {
    schema: {
      operationId: 'AdminController_revokeUserSessions',
      tags,
      security,
      summary: "Revoke every active session of a user (reason: admin)",
      description: 'Takes effect on the next request of each device; answers how many sessions were revoked (0 when none were active).',
      params: UserIdParams,
      response: { 200: { description: 'Sessions revoked', ...ref(RevokeAllResult) }, ...problemResponses(400, 401) },
    },
  }, async (request) => ({ revokedCount: await sessions.revokeAll(request.params.userId, 'admin') }));

  app.delete('/admin/sessions/:sessionId', {
    schema: {
      operationId: 'AdminController_revokeSession',
      tags,
      security,
      summary: 'Revoke one session of any user (reason: admin)',
      description: 'Takes effect on the next request of that device; 404 when the session is unknown or already ended.',
      params: AdminSessionIdParams,
      response: { 200: { description: 'Session revoked', ...ref(RevokeResult) }, ...problemResponses(400, 401, 404) },
    },
  }, async (request) => {
    await sessions.revokeAny(request.params.sessionId, 'admin');
    return { sessionId: request.params.sessionId, revoked: true as const };
  });

  app.get('/admin/stats', {
    schema: {
      operationId: 'AdminController_getStats',
      tags,
      security,
      summary: 'Counts of users and active sessions',
      description: 'Totals across the service, for dashboards.',
      response: { 200: { description: 'Counts', ...ref(AdminStats) }, ...problemResponses(401) },
    },
  }, async () => {
    const [userCount, activeSessions] = await Promise.all([users.count(), sessions.countAllActive()]);
    return { users: userCount, activeSessions };
  });

  app.get('/admin/events', {
    schema: {
      operationId: 'AdminController_listEvents',
      tags,
      security,
      summary: 'The audit log of session events, oldest first, filtered and paged by id',
      description: 'Pass the last id seen as `after` to read the next page; filters combine (AND).',
      querystring: EventsQuery,
      response: { 200: { description: 'Events', ...ref(SessionEventList) }, ...problemResponses(400, 401) },
    },
  }, async (request) => {
    const limit = request.query.limit ?? 100;
    const list = await events.list(
      { type: request.query.type, userId: request.query.userId, sessionId: request.query.sessionId, afterId: request.query.after },
      limit,
    );
    return {
      data: list.map((e) => ({ id: e.id, type: e.type, occurredAt: iso(e.occurredAtMs), sessionId: e.sessionId, userId: e.userId, reason: e.reason as RevokeReason | null, data: e.data })),
      nextAfter: list.length === limit ? list[list.length - 1]!.id : null,
    };
  });
};
