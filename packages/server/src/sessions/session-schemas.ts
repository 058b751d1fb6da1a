import { Type } from 'typebox';
import { ref } from '../http/problem.ts';
import { UuidInput } from '../http/uuid.ts';

/** A session id: a UUID in any case (answered in lower case); anything else is malformed (400). */
export const SessionId = UuidInput('Session id (UUID; any case accepted, answered in the canonical lower-case form).');

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

// Examples for the OpenAPI document (the lint checks each against its schema).
const exampleSession = {
  id: '0f8c3a52-6a4b-4d3e-9a51-2c7f1e0b9d44',
  createdAt: '2026-11-27T09:15:02.114Z',
  lastActiveAt: '2026-11-29T08:41:37.902Z',
  expiresAt: '2026-12-06T08:41:37.902Z',
  ipAddress: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  device: { browser: 'Firefox 121.0', os: 'Linux', type: 'desktop' },
  isCurrent: true,
  dpopBound: false,
  authMethod: 'password',
};

/**
 * Refused refreshes of a key-bound session for want of its key (event refresh_token.unbound_use):
 * present only on a session that had some. Someone holds a copy of its refresh token (malware, a
 * copied browser profile); the key kept it out, but the device's owner should know. Shared by the
 * user's and the admin view of a session.
 */
export const unboundUseFields = {
  unboundUseCount: Type.Optional(Type.Integer({ minimum: 1, description: "How many times this session's refresh token was presented without a proof by its key, and refused (refresh_token.unbound_use)." })),
  lastUnboundUseAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the latest of those attempts was refused.' })),
};

export const Session = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    createdAt: Type.String({ format: 'date-time' }),
    lastActiveAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time', description: 'When the session ends without further activity (idle or absolute limit, whichever is sooner).' }),
    ipAddress: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    device: ref(Device),
    isCurrent: Type.Boolean({ description: 'True for the session of the token used (or of currentSessionId when given).' }),
    dpopBound: Type.Boolean({ description: 'Bound to a key its device holds (DPoP, RFC 9449): a copied refresh or access token is useless without that key.' }),
    ...unboundUseFields,
    authMethod: SessionAuthMethod,
  },
  { $id: 'Session', additionalProperties: false, examples: [exampleSession] },
);

export const PaginationMeta = Type.Object(
  {
    page: Type.Integer({ minimum: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100 }),
    total: Type.Integer({ minimum: 0 }),
    totalPages: Type.Integer({ minimum: 0 }),
  },
  { $id: 'PaginationMeta', additionalProperties: false, examples: [{ page: 1, limit: 20, total: 1, totalPages: 1 }] },
);

export const SessionList = Type.Object(
  {
    data: Type.Array(ref(Session)),
    meta: ref(PaginationMeta),
  },
  { $id: 'SessionList', additionalProperties: false, examples: [{ data: [exampleSession], meta: { page: 1, limit: 20, total: 1, totalPages: 1 } }] },
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

export const SessionCount = Type.Object({ count: Type.Integer({ minimum: 0 }) }, { $id: 'SessionCount', additionalProperties: false, examples: [{ count: 2 }] });

export const RevokeAllResult = Type.Object(
  { revokedCount: Type.Integer({ minimum: 0 }) },
  { $id: 'RevokeAllResult', additionalProperties: false, examples: [{ revokedCount: 2 }] },
);

export const RevokeResult = Type.Object(
  { sessionId: Type.String({ format: 'uuid' }), revoked: Type.Literal(true) },
  { $id: 'RevokeResult', additionalProperties: false, examples: [{ sessionId: exampleSession.id, revoked: true }] },
);

export const SessionValidation = Type.Object(
  {
    sessionId: Type.String({ format: 'uuid' }),
    valid: Type.Boolean(),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'SessionValidation', additionalProperties: false, examples: [{ sessionId: exampleSession.id, valid: true, expiresAt: exampleSession.expiresAt }] },
);

export const sessionSchemas = [Device, Session, PaginationMeta, SessionList, SessionCount, RevokeAllResult, RevokeResult, SessionValidation];
