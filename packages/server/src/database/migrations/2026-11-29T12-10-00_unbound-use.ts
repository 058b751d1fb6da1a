import type { Kysely } from 'kysely';

// Frozen (2026-11-29). Attempts to refresh a key-bound session without its key (DPoP,
// refresh_token.unbound_use), summed up on the session itself so the devices list shows them without
// reading the event log: how many, and the latest.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('unbound_use_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('sessions').addColumn('last_unbound_use_at', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('last_unbound_use_at').execute();
  await db.schema.alterTable('sessions').dropColumn('unbound_use_count').execute();
}
