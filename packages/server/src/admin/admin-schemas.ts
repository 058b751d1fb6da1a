import { Type, type Static } from 'typebox';
import { UuidInput } from '../http/uuid.ts';
import { SessionId } from '../sessions/session-schemas.ts';

const Uuid = UuidInput('User id (UUID; any case accepted, answered in the canonical lower-case form).');

export const AdminUser = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email' }),
    name: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    activeSessionCount: Type.Integer({ minimum: 0 }),
  },
  { $id: 'AdminUser', additionalProperties: false },
);

export const AdminSession = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    userId: Type.String({ format: 'uuid' }),
    createdAt: Type.String({ format: 'date-time' }),
    lastActiveAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
    ipAddress: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    device: Type.Unsafe<{ browser: string | null; os: string | null; type: 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown' }>({ $ref: 'Device#' }),
    active: Type.Boolean(),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    endReason: Type.Union([Type.String(), Type.Null()], { description: 'Why the session ended (revocation reason, idle_timeout or absolute_timeout); null while active.' }),
  },
  { $id: 'AdminSession', additionalProperties: false },
);

export const AdminSessionList = Type.Object(
  {
    data: Type.Array(Type.Unsafe<Static<typeof AdminSession>>({ $ref: 'AdminSession#' })),
    meta: Type.Unsafe<{ page: number; limit: number; total: number; totalPages: number }>({ $ref: 'PaginationMeta#' }),
  },
  { $id: 'AdminSessionList', additionalProperties: false },
);

export const AdminStats = Type.Object(
  { users: Type.Integer({ minimum: 0 }), activeSessions: Type.Integer({ minimum: 0 }) },
  { $id: 'AdminStats', additionalProperties: false },
);

export const SessionEvent = Type.Object(
  {
    id: Type.Integer(),
    type: Type.Union([
      Type.Literal('session.created'),
      Type.Literal('session.refreshed'),
      Type.Literal('session.revoked'),
      Type.Literal('session.expired'),
      Type.Literal('refresh_token.reused'),
    ]),
    occurredAt: Type.String({ format: 'date-time' }),
    sessionId: Type.String({ format: 'uuid' }),
    userId: Type.String({ format: 'uuid' }),
    reason: Type.Union([Type.String(), Type.Null()]),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'SessionEvent', additionalProperties: false },
);

export const SessionEventList = Type.Object(
  {
    data: Type.Array(Type.Unsafe<Static<typeof SessionEvent>>({ $ref: 'SessionEvent#' })),
    nextAfter: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as `after` for the next page; null at the end.' }),
  },
  { $id: 'SessionEventList', additionalProperties: false },
);

export const FindUserQuery = Type.Object({ email: Type.String({ minLength: 3, maxLength: 254 }) }, { additionalProperties: false });
export const UserIdParams = Type.Object({ userId: Uuid }, { additionalProperties: false });
export const AdminSessionIdParams = Type.Object({ sessionId: SessionId }, { additionalProperties: false });
export const AdminSessionsQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('ended'), Type.Literal('all')], { default: 'all' })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);
export const EventsQuery = Type.Object(
  {
    type: Type.Optional(
      Type.Union([
        Type.Literal('session.created'),
        Type.Literal('session.refreshed'),
        Type.Literal('session.revoked'),
        Type.Literal('session.expired'),
        Type.Literal('refresh_token.reused'),
      ]),
    ),
    userId: Type.Optional(Uuid),
    sessionId: Type.Optional(SessionId),
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'Only events with a larger id (keyset pagination).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

export const adminSchemas = [AdminUser, AdminSession, AdminSessionList, AdminStats, SessionEvent, SessionEventList];
