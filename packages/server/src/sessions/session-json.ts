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
  authMethod: s.authMethod,
});
