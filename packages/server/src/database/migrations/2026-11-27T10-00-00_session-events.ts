import type { Kysely } from 'kysely';

// Frozen (2026-11-27). The audit log and outbox of session events: written in the same transaction
// as the change it describes. `id` is the delivery order for webhooks and the pagination key.

export async function up(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  await db.schema
    .createTable('session_events')
    .addColumn('id', isPostgres ? 'bigserial' : 'integer', (c) => (isPostgres ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('data', 'text')
    .execute();
  await db.schema.createIndex('session_events_user_idx').on('session_events').columns(['user_id', 'id']).execute();
  await db.schema.createIndex('session_events_session_idx').on('session_events').columns(['session_id', 'id']).execute();
  await db.schema.createIndex('session_events_type_idx').on('session_events').columns(['type', 'id']).execute();
  await db.schema.createIndex('session_events_occurred_idx').on('session_events').column('occurred_at').execute();

  // Webhook delivery position per endpoint, with a lease so one instance delivers at a time.
  await db.schema
    .createTable('webhook_cursors')
    .addColumn('endpoint', 'text', (c) => c.primaryKey())
    .addColumn('last_event_id', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute();

  // Admin API keys: only a SHA-256 of the secret is stored.
  await db.schema
    .createTable('admin_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('admin_keys').execute();
  await db.schema.dropTable('webhook_cursors').execute();
  await db.schema.dropTable('session_events').execute();
}
