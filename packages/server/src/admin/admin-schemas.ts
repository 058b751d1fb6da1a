import { Type } from 'typebox';
import { UuidInput } from '../http/uuid.ts';
import { Device, PaginationMeta, SessionAuthMethod, SessionId, unboundUseFields } from '../sessions/session-schemas.ts';
import { ref } from '../http/problem.ts';
import { EmailString } from '../http/text-schemas.ts';
import { sessionEventTypes, type SessionEventType } from '../events/session-event.ts';
import { revokeReasons, type RevokeReason } from '../sessions/session.ts';

/** The event types and end reasons, from their one definitions. */
const EventType = Type.Unsafe<SessionEventType>(Type.Union(sessionEventTypes.map((type) => Type.Literal(type))));
const EndReason = Type.Unsafe<RevokeReason>(Type.Union(revokeReasons.map((reason) => Type.Literal(reason))));

const Uuid = UuidInput('User id (UUID; any case accepted, answered in the canonical lower-case form).');

export const AdminUser = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email' }),
    name: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    externalId: Type.Union([Type.String(), Type.Null()], { description: "The application's own id, for users its backend created." }),
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
    device: ref(Device),
    dpopBound: Type.Boolean({ description: 'Bound to a device key (DPoP).' }),
    ...unboundUseFields,
    authMethod: SessionAuthMethod,
    active: Type.Boolean(),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    endReason: Type.Union([EndReason, Type.Null()], { description: 'Why the session ended (revocation reason, idle_timeout or absolute_timeout); null while active.' }),
  },
  { $id: 'AdminSession', additionalProperties: false },
);

export const AdminSessionList = Type.Object(
  {
    data: Type.Array(ref(AdminSession)),
    meta: ref(PaginationMeta),
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
    type: EventType,
    occurredAt: Type.String({ format: 'date-time' }),
    sessionId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'null for events about an account (password_reset.requested).' }),
    userId: Type.String({ format: 'uuid' }),
    reason: Type.Union([EndReason, Type.Null()], { description: 'Why the session ended, for session.revoked and session.expired; null otherwise.' }),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'SessionEvent', additionalProperties: false },
);

export const SessionEventList = Type.Object(
  {
    data: Type.Array(ref(SessionEvent)),
    nextAfter: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as `after` for the next page; null at the end.' }),
  },
  { $id: 'SessionEventList', additionalProperties: false },
);

export const FindUserQuery = Type.Object({ email: EmailString({ minLength: 3 }) }, { additionalProperties: false });
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
    type: Type.Optional(EventType),
    userId: Type.Optional(Uuid),
    sessionId: Type.Optional(SessionId),
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'Only events with a larger id (keyset pagination).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

export const adminSchemas = [AdminUser, AdminSession, AdminSessionList, AdminStats, SessionEvent, SessionEventList];
