import { iso } from '../http/serialize.ts';
import type { SessionView } from './session-service.ts';

/** A session as the API's JSON shows it (the `Session` schema); shared by the user and admin routes. */
export const sessionJson = (s: SessionView) => ({
  id: s.id,
  createdAt: iso(s.createdAtMs),
  lastActiveAt: iso(s.lastActiveAtMs),
  expiresAt: iso(s.expiresAtMs),
  ipAddress: s.ipAddress,
  userAgent: s.userAgent,
  device: s.device,
  isCurrent: s.isCurrent,
  dpopBound: s.dpopBound,
  // Only on sessions that had such an attempt: every other session's JSON is as it was.
  ...(s.unboundUse ? { unboundUseCount: s.unboundUse.count, lastUnboundUseAt: iso(s.unboundUse.lastAtMs) } : {}),
  authMethod: s.authMethod,
});
