/**
 * The session domain: types and pure rules. No I/O here, so every rule is testable with plain values.
 */

/**
 * Why a session ended: recorded on revocation, reported in events, webhooks and the admin API. The
 * one list: the type, the OpenAPI schemas and the README derive from it.
 */
export const revokeReasons = [
  'user_logout',
  'user_revoked',
  'user_revoked_all',
  'refresh_token_reused',
  'idle_timeout',
  'absolute_timeout',
  'session_limit',
  'admin',
  /** The account's password was changed: every other session of the account ends. */
  'password_changed',
  /** The account was deleted (by its owner or an operator): every session ends. */
  'account_deleted',
  /** The password was reset through an emailed link: every session of the account ends. */
  'password_reset',
] as const;

export type RevokeReason = (typeof revokeReasons)[number];

/**
 * How a session's user signed in: 'password' for sessiond's own sign-in; for a session issued by
 * the application's backend, what it says (`oauth:google`, `saml`, `magic_link`…). Shown on the
 * devices page, in the access token's `amr` and in events.
 */
export const PASSWORD_AUTH_METHOD = 'password';

export interface SessionRecord {
  id: string;
  userId: string;
  createdAtMs: number;
  lastActiveAtMs: number;
  /** Absolute expiry (createdAt + absolute lifetime). */
  expiresAtMs: number;
  revokedAtMs: number | null;
  revokeReason: RevokeReason | null;
  ipAddress: string | null;
  userAgent: string | null;
  refreshGeneration: number;
  refreshSalt: string;
  refreshRotatedAtMs: number | null;
  /** RFC 7638 thumbprint of the device key the session is bound to (DPoP, dpop/); null when unbound. */
  dpopJkt: string | null;
  /**
   * Refreshes of this key-bound session refused for want of its key (refresh_token.unbound_use): how
   * many, and the latest. The devices list shows them: someone holds a copy of this session's
   * refresh token.
   */
  unboundUseCount: number;
  lastUnboundUseAtMs: number | null;
  authMethod: string;
}

export interface LifetimePolicy {
  idleTimeoutMs: number;
  absoluteLifetimeMs: number;
}

/** The moment the session stops being valid if nothing else happens: the shorter of the two limits. */
export function effectiveExpiryMs(session: Pick<SessionRecord, 'lastActiveAtMs' | 'expiresAtMs'>, policy: LifetimePolicy): number {
  return Math.min(session.expiresAtMs, session.lastActiveAtMs + policy.idleTimeoutMs);
}

/**
 * A session is active when it is not revoked and neither limit has passed. Fail closed: a session at
 * exactly its expiry instant is already expired.
 */
export function isActive(
  session: Pick<SessionRecord, 'lastActiveAtMs' | 'expiresAtMs' | 'revokedAtMs'>,
  policy: LifetimePolicy,
  nowMs: number,
): boolean {
  return session.revokedAtMs === null && nowMs < effectiveExpiryMs(session, policy);
}

/** Why an unrevoked session is no longer active, or null while it is. */
export function expiryReason(
  session: Pick<SessionRecord, 'lastActiveAtMs' | 'expiresAtMs'>,
  policy: LifetimePolicy,
  nowMs: number,
): 'idle_timeout' | 'absolute_timeout' | null {
  if (nowMs >= session.expiresAtMs) return 'absolute_timeout';
  if (nowMs >= session.lastActiveAtMs + policy.idleTimeoutMs) return 'idle_timeout';
  return null;
}

/** The filter "active at nowMs" in the form stores apply it. */
export interface ActiveWindow {
  nowMs: number;
  /** Sessions with lastActiveAt at or before this are idle-expired. */
  idleCutoffMs: number;
}

export function activeWindow(policy: LifetimePolicy, nowMs: number): ActiveWindow {
  return { nowMs, idleCutoffMs: nowMs - policy.idleTimeoutMs };
}
