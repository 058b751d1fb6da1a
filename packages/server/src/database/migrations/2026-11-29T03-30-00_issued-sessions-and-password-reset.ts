import { type Kysely, sql } from 'kysely';

// Frozen (2026-11-29). Sessions issued by the application's backend, and password reset.

export async function up(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';

  // How the session's user signed in. Every session before this migration came from a password.
  await db.schema.alterTable('sessions').addColumn('auth_method', 'text', (c) => c.notNull().defaultTo('password')).execute();

  // The application's own id for a user it created (optional, unique when given). A user without a
  // password keeps password_hash = '' (no hash function yields it): SQLite cannot drop NOT NULL
  // without rebuilding the table under the sessions' foreign key.
  await db.schema.alterTable('users').addColumn('external_id', 'text').execute();
  await db.schema.createIndex('users_external_id_idx').on('users').column('external_id').unique().where(sql.ref('external_id'), 'is not', null).execute();

  // At most one live reset token per user (the primary key): a new one replaces (voids) the last.
  // Only a SHA-256 of the token is stored.
  await db.schema
    .createTable('password_reset_tokens')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();

  // The outbox of reset requests: written by the request (the same single insert whether or not
  // the email has an account), worked off in the background, with a lease and back-off per row.
  await db.schema
    .createTable('password_reset_requests')
    .addColumn('id', isPostgres ? 'bigserial' : 'integer', (c) => (isPostgres ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('done_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema
    .createIndex('password_reset_requests_due_idx')
    .on('password_reset_requests')
    .columns(['next_attempt_at', 'id'])
    .where(sql.ref('done_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('password_reset_requests').execute();
  await db.schema.dropTable('password_reset_tokens').execute();
  await db.schema.dropIndex('users_external_id_idx').execute();
  await db.schema.alterTable('users').dropColumn('external_id').execute();
  await db.schema.alterTable('sessions').dropColumn('auth_method').execute();
}
