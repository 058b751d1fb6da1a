import type { Kysely } from 'kysely';

// Frozen (2026-11-29). Account deletion: a deleted user keeps a row holding only its id and when it
// was deleted (email replaced, name and password hash erased), because its sessions must stay as
// revoked rows until retention purges them: the revocation feed of other processes reads them.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('deleted_at', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('deleted_at').execute();
}
