import type { ServiceKey, ServiceKeyScope } from './service-key.ts';

/**
 * Persistence of service keys. Implemented by kysely-service-key-store.ts for SQLite and
 * PostgreSQL; test/contracts/service-key-store.contract.ts holds the contract.
 */
export interface ServiceKeyStore {
  /** Creates a key with these scopes; the returned secret is shown once and never stored. */
  create(name: string, scopes: readonly ServiceKeyScope[], nowMs: number): Promise<{ key: ServiceKey; secret: string }>;
  /** The live key a presented secret belongs to, or undefined (unknown, malformed, wrong secret or revoked). */
  verify(presented: string): Promise<ServiceKey | undefined>;
  /** Revokes a key by id; false when unknown or already revoked. */
  revoke(id: string, nowMs: number): Promise<boolean>;
  /** Every key, revoked ones included, oldest first. */
  list(): Promise<ServiceKey[]>;
}
