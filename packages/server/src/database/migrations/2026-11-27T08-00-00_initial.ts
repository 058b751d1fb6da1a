import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as it was on 2026-11-27 and must never import app code.
// `bigint` holds epoch milliseconds; SQLite maps it to INTEGER affinity, PostgreSQL to int8.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_active_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoke_reason', 'text')
    .addColumn('ip_address', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('refresh_generation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('refresh_salt', 'text', (c) => c.notNull())
    .addColumn('refresh_rotated_at', 'bigint')
    .execute();

  // Listing and counting a user's live sessions: user_id equality, then last_active_at order.
  // Partial on revoked_at IS NULL so revoked history does not bloat the hot index.
  await db.schema
    .createIndex('sessions_user_active_idx')
    .on('sessions')
    .columns(['user_id', 'last_active_at'])
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();

  // The revocation feed reads "revoked since T" every poll interval.
  await db.schema
    .createIndex('sessions_revoked_at_idx')
    .on('sessions')
    .column('revoked_at')
    .where(sql.ref('revoked_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('users').execute();
}
