import { Type } from 'typebox';
import { SessionId } from '../sessions/session-schemas.ts';

/** A position in the revocation stream: the decimal id of a session event. */
export const CURSOR_PATTERN = '^(0|[1-9][0-9]{0,15})$';
const cursorShape = new RegExp(CURSOR_PATTERN);

/** The cursor's value, or undefined when malformed (a 400). */
export function parseCursor(raw: string): number | undefined {
  return cursorShape.test(raw) ? Number(raw) : undefined;
}

/**
 * One session end: `data` of the stream's `event: revoked`, and an item of GET /revocations. The
 * names follow OpenID CAEP's session-revoked event (subject = session + user, reason, event time),
 * so a Shared Signals transmitter can later be a format of this, not a redesign.
 */
export const Revocation = Type.Object(
  {
    sessionId: SessionId,
    userId: Type.String(),
    reason: Type.String({ description: 'Why the session ended: user_logout, user_revoked, user_revoked_all, refresh_token_reused, idle_timeout, absolute_timeout, session_limit, admin, account_deleted…' }),
    endedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Revocation', additionalProperties: false },
);

export const RevocationList = Type.Object(
  {
    data: Type.Array(Type.Unsafe<{ sessionId: string; userId: string; reason: string; endedAt: string }>({ $ref: 'Revocation#' })),
    next: Type.String({ pattern: CURSOR_PATTERN, description: 'Pass as `after` to get what follows.' }),
    reset: Type.Optional(Type.Boolean({ description: 'True when `after` was older than what is retained: this page restarts from the snapshot.' })),
  },
  { $id: 'RevocationList', additionalProperties: false },
);

export const RevocationListQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ pattern: CURSOR_PATTERN, description: 'A `next` from an earlier page; omitted: start from the snapshot.' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

export const revocationSchemas = [Revocation, RevocationList];
