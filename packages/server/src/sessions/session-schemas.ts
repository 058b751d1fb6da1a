import { Type } from 'typebox';

/** Canonical lowercase UUID: anything else in a session-id position is malformed (400). */
export const SessionId = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description: 'Session id (UUID, lowercase canonical form).',
});

export const Device = Type.Object(
  {
    browser: Type.Union([Type.String(), Type.Null()], { description: 'Browser name and version, e.g. "Chrome 120.0".' }),
    os: Type.Union([Type.String(), Type.Null()], { description: 'Operating system and version.' }),
    type: Type.Union([Type.Literal('desktop'), Type.Literal('mobile'), Type.Literal('tablet'), Type.Literal('bot'), Type.Literal('unknown')]),
  },
  { $id: 'Device', additionalProperties: false },
);

/** How a session's user signed in (the user's and the admin view of a session alike). */
export const SessionAuthMethod = Type.String({
  description: "How the user signed in: `password` (sessiond's sign-in), or what the application's backend said when it issued the session (e.g. `oauth:google`, `saml`, `magic_link`).",
});

export const Session = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    createdAt: Type.String({ format: 'date-time' }),
    lastActiveAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time', description: 'When the session ends without further activity (idle or absolute limit, whichever is sooner).' }),
    ipAddress: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    device: Type.Unsafe<{ browser: string | null; os: string | null; type: 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown' }>({ $ref: 'Device#' }),
    isCurrent: Type.Boolean({ description: 'True for the session of the token used (or of currentSessionId when given).' }),
    authMethod: SessionAuthMethod,
  },
  { $id: 'Session', additionalProperties: false },
);

export const PaginationMeta = Type.Object(
  {
    page: Type.Integer({ minimum: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100 }),
    total: Type.Integer({ minimum: 0 }),
    totalPages: Type.Integer({ minimum: 0 }),
  },
  { $id: 'PaginationMeta', additionalProperties: false },
);

export const SessionList = Type.Object(
  {
    data: Type.Array(Type.Unsafe<import('typebox').Static<typeof Session>>({ $ref: 'Session#' })),
    meta: Type.Unsafe<import('typebox').Static<typeof PaginationMeta>>({ $ref: 'PaginationMeta#' }),
  },
  { $id: 'SessionList', additionalProperties: false },
);

export const ListQuery = Type.Object(
  {
    currentSessionId: Type.Optional(SessionId),
    // Optional with defaults: ajv fills them in, so handlers always see numbers.
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'Page number, from 1.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Sessions per page, 1 to 100.' })),
  },
  { additionalProperties: false },
);

export const RevokeAllQuery = Type.Object(
  {
    keepCurrent: Type.Optional(Type.Boolean({ default: false, description: 'Keep the session of the token used; revoke only the others.' })),
  },
  { additionalProperties: false },
);

export const SessionIdParams = Type.Object({ sessionId: SessionId }, { additionalProperties: false });

export const SessionCount = Type.Object({ count: Type.Integer({ minimum: 0 }) }, { $id: 'SessionCount', additionalProperties: false });

export const RevokeAllResult = Type.Object(
  { revokedCount: Type.Integer({ minimum: 0 }) },
  { $id: 'RevokeAllResult', additionalProperties: false },
);

export const RevokeResult = Type.Object(
  { sessionId: Type.String({ format: 'uuid' }), revoked: Type.Literal(true) },
  { $id: 'RevokeResult', additionalProperties: false },
);

export const SessionValidation = Type.Object(
  {
    sessionId: Type.String({ format: 'uuid' }),
    valid: Type.Boolean(),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'SessionValidation', additionalProperties: false },
);

export const sessionSchemas = [Device, Session, PaginationMeta, SessionList, SessionCount, RevokeAllResult, RevokeResult, SessionValidation];
