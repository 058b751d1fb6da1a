import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './2026-11-27T08-00-00_initial.ts';

/**
 * Migrations listed statically (not read from disk) so they work the same from TypeScript sources,
 * bundles and tests. Names sort by timestamp; add new ones at the end.
 */
const migrations: Record<string, Migration> = {
  '2026-11-27T08-00-00_initial': initial,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
