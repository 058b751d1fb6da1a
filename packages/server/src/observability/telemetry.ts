import type { RevokeReason } from '../sessions/session.ts';

/**
 * What the services report about themselves. Injected (a no-op by default), so services do not
 * depend on Prometheus; observability/metrics.ts implements it with prom-client.
 */
export interface Telemetry {
  signIn(result: 'success' | 'failure'): void;
  signUp(): void;
  refresh(result: 'success' | 'failure'): void;
  revoked(reason: RevokeReason, count: number): void;
  /** One per-request session check: answered from the cache, or read from the database. */
  cacheLookup(hit: boolean): void;
  backendError(backend: 'database' | 'redis'): void;
}

export const noopTelemetry: Telemetry = {
  signIn() {},
  signUp() {},
  refresh() {},
  revoked() {},
  cacheLookup() {},
  backendError() {},
};
