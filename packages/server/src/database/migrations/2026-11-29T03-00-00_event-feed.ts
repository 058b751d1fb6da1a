import { sql, type Kysely } from 'kysely';

// Frozen (2026-11-29). The event feed that late commits cannot slip past (events/kysely-event-store.ts).
//
// PostgreSQL: every event records the id of the transaction that wrote it (`txid`, a 64-bit xid8
// that never wraps and survives restarts). A reader remembers the snapshot of its last read and
// next reads the events whose transaction was not yet visible in it: whenever a transaction
// commits, its events are read once, whatever their `id` or timestamp. Rows that exist now get
// the migration's own transaction id: they count as committed with it.
// SQLite: writers are serialised, so `id` is already in commit order; nothing to add there.
//
// webhook_cursors.feed_position: each endpoint's place in that feed (replaces last_event_id as the
// delivery cursor; last_event_id stays, for the record, as the last acknowledged event id).

export async function up(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  if (isPostgres) {
    await sql`alter table session_events add column txid xid8 not null default pg_current_xact_id()`.execute(db);
    await db.schema.createIndex('session_events_txid_idx').on('session_events').column('txid').execute();
  }
  await db.schema.alterTable('webhook_cursors').addColumn('feed_position', 'text').execute();
  // Existing endpoints continue after their last acknowledged id. PostgreSQL: the segment from "no
  // transaction seen" ('1:1:') to the snapshot of the first read after this migration (empty `to`:
  // taken then; this transaction's own snapshot would not show its own rows as visible), after
  // last_event_id; then on from that snapshot. SQLite: the id itself.
  await (isPostgres
    ? sql`update webhook_cursors set feed_position = '1:1://' || last_event_id::text`
    : sql`update webhook_cursors set feed_position = cast(last_event_id as text)`
  ).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  await db.schema.alterTable('webhook_cursors').dropColumn('feed_position').execute();
  if (isPostgres) {
    await db.schema.dropIndex('session_events_txid_idx').execute();
    await db.schema.alterTable('session_events').dropColumn('txid').execute();
  }
}
