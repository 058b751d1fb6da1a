/**
 * Service keys: credentials of the application's own backends (not of people, not of operators).
 * Each key carries scopes; a route names the one scope it needs (require-service-key.ts).
 *
 * - `revocations:read`: read the revocation stream (the default: the least a key can do).
 * - `sessions:issue`: create password-less users and issue sessions for users the application has
 *   authenticated itself (OAuth, SAML, magic links). Powerful: whoever holds it can sign in as any
 *   user, so it is never granted by default and has to be asked for by name.
 */
export const serviceKeyScopes = ['revocations:read', 'sessions:issue'] as const;
export type ServiceKeyScope = (typeof serviceKeyScopes)[number];
export const defaultServiceKeyScopes: readonly ServiceKeyScope[] = ['revocations:read'];

export function isServiceKeyScope(value: string): value is ServiceKeyScope {
  return (serviceKeyScopes as readonly string[]).includes(value);
}

export interface ServiceKey {
  id: string;
  name: string;
  scopes: ServiceKeyScope[];
  createdAtMs: number;
  revokedAtMs: number | null;
}
