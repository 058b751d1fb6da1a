import type { Kysely } from 'kysely';

// Frozen (2026-11-29). A deleted account's tombstone kept its external id (the application's own
// id of the person, e.g. `google|123`): personal data kept after deletion, and, by the unique index,
// a block on that person ever being provisioned again (409 external_id_taken). Deletion now clears
// it (users/kysely-user-store.ts markDeleted); this clears the tombstones made before.

export async function up(db: Kysely<any>): Promise<void> {
  await db.updateTable('users').set({ external_id: null }).where('deleted_at', 'is not', null).where('external_id', 'is not', null).execute();
}

export async function down(): Promise<void> {
  // Nothing to restore: the cleared ids belonged to deleted accounts.
}
