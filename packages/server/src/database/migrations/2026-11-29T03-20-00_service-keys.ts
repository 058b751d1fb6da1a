import type { Kysely } from 'kysely';

// Frozen (2026-11-29). Service keys: credentials of the application's backends, with scopes
// (space-separated words). Only a SHA-256 of the secret is stored.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('service_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('service_keys').execute();
}
