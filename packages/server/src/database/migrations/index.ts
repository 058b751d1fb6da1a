import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './2026-11-27T08-00-00_initial.ts';
import * as sweepIndexes from './2026-11-27T09-00-00_sweep-indexes.ts';
import * as sessionEvents from './2026-11-27T10-00-00_session-events.ts';
import * as eventFeed from './2026-11-29T03-00-00_event-feed.ts';
import * as userDeletion from './2026-11-29T03-10-00_user-deletion.ts';
import * as serviceKeys from './2026-11-29T03-20-00_service-keys.ts';
import * as issuedSessionsAndPasswordReset from './2026-11-29T03-30-00_issued-sessions-and-password-reset.ts';
import * as dpopBinding from './2026-11-29T12-00-00_dpop-binding.ts';
import * as unboundUse from './2026-11-29T12-10-00_unbound-use.ts';
import * as tombstoneExternalIds from './2026-11-29T12-20-00_tombstone-external-ids.ts';

/**
 * Migrations listed statically (not read from disk) so they work the same from TypeScript sources,
 * bundles and tests. Names sort by timestamp; add new ones at the end.
 */
const migrations: Record<string, Migration> = {
  '2026-11-27T08-00-00_initial': initial,
  '2026-11-27T09-00-00_sweep-indexes': sweepIndexes,
  '2026-11-27T10-00-00_session-events': sessionEvents,
  '2026-11-29T03-00-00_event-feed': eventFeed,
  '2026-11-29T03-10-00_user-deletion': userDeletion,
  '2026-11-29T03-20-00_service-keys': serviceKeys,
  '2026-11-29T03-30-00_issued-sessions-and-password-reset': issuedSessionsAndPasswordReset,
  '2026-11-29T12-00-00_dpop-binding': dpopBinding,
  '2026-11-29T12-10-00_unbound-use': unboundUse,
  '2026-11-29T12-20-00_tombstone-external-ids': tombstoneExternalIds,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
