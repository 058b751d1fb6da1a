import { Type } from 'typebox';
import { ref } from '../http/problem.ts';
import { SessionId } from '../sessions/session-schemas.ts';

/**
 * A place in the revocation stream, `<ms>~<feed position>`: when it was handed out, and where in the
 * commit-ordered feed it stands. The time lets the server tell a cursor older than the token
 * lifetime (restart from the snapshot) without reading anything.
 */
export const CURSOR_PATTERN = '^[0-9]{1,15}~[0-9:,/]{1,8000}$';
const cursorShape = new RegExp(CURSOR_PATTERN);

export interface StreamCursor {
  issuedAtMs: number;
  position: string;
}

/** The cursor's parts, or undefined when malformed (a 400). */
export function parseCursor(raw: string): StreamCursor | undefined {
  if (raw.length > 8020 || !cursorShape.test(raw)) return undefined;
  const at = raw.indexOf('~');
  return { issuedAtMs: Number(raw.slice(0, at)), position: raw.slice(at + 1) };
}

export function formatCursor(issuedAtMs: number, position: string): string {
  return `${issuedAtMs}~${position}`;
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
    data: Type.Array(ref(Revocation)),
    next: Type.String({ description: 'Pass as `after` to get what follows.' }),
    reset: Type.Optional(Type.Boolean({ description: 'True when `after` was older than what is retained: this page restarts from the snapshot.' })),
  },
  { $id: 'RevocationList', additionalProperties: false },
);

export const RevocationListQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ pattern: CURSOR_PATTERN, maxLength: 8020, description: 'A `next` from an earlier page, or an `id:` of the stream; omitted: start from the snapshot.' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

export const revocationSchemas = [Revocation, RevocationList];
