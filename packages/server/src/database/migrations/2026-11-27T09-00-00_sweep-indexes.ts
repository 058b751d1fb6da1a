import { type Kysely, sql } from 'kysely';

// Frozen (2026-11-27). The background sweeper finds sessions that have expired but are not yet
// marked ended: by absolute expiry, and by idle cutoff across all users. Partial on
// revoked_at IS NULL so only live sessions are indexed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('sessions_live_expires_idx')
    .on('sessions')
    .column('expires_at')
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('sessions_live_last_active_idx')
    .on('sessions')
    .column('last_active_at')
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sessions_live_last_active_idx').execute();
  await db.schema.dropIndex('sessions_live_expires_idx').execute();
}
