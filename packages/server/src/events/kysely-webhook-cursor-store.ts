import type { Kysely, Selectable } from 'kysely';
import type { Database, WebhookCursorTable } from '../database/tables.ts';
import type { WebhookCursor, WebhookCursorStore } from './webhook-cursor-store.ts';

function toCursor(row: Selectable<WebhookCursorTable>): WebhookCursor {
  return {
    endpoint: row.endpoint,
    feedPosition: row.feed_position,
    lastEventId: Number(row.last_event_id),
    attempts: Number(row.attempts),
    nextAttemptAtMs: Number(row.next_attempt_at),
    lastError: row.last_error,
    leaseOwner: row.lease_owner,
    leaseUntilMs: Number(row.lease_until),
  };
}

/** SQL for webhook cursors (SQLite and PostgreSQL alike). */
export function createKyselyWebhookCursorStore(db: Kysely<Database>): WebhookCursorStore {
  return {
    async ensure(endpoint, start) {
      // Two instances starting together: one insert wins, the other does nothing.
      await db
        .insertInto('webhook_cursors')
        .values({ endpoint, feed_position: start, last_event_id: 0, lease_owner: null, lease_until: 0, attempts: 0, next_attempt_at: 0, last_error: null })
        .onConflict((oc) => oc.column('endpoint').doNothing())
        .execute();
    },

    async acquire(endpoint, owner, { nowMs, leaseMs }) {
      // One conditional UPDATE is the whole lock: PostgreSQL re-checks the WHERE clause on the row
      // it locked (so of two concurrent takers of an expired lease, the second sees the first's
      // lease and matches nothing), and SQLite serialises writers.
      const row = await db
        .updateTable('webhook_cursors')
        .set({ lease_owner: owner, lease_until: nowMs + leaseMs })
        .where('endpoint', '=', endpoint)
        .where((eb) => eb.or([eb('lease_owner', '=', owner), eb('lease_until', '<=', nowMs)]))
        .returningAll()
        .executeTakeFirst();
      return row ? toCursor(row) : undefined;
    },

    async renew(endpoint, owner, { nowMs, leaseMs }) {
      const result = await db
        .updateTable('webhook_cursors')
        .set({ lease_until: nowMs + leaseMs })
        .where('endpoint', '=', endpoint)
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async advance(endpoint, owner, move, { nowMs, leaseMs }) {
      const result = await db
        .updateTable('webhook_cursors')
        .set({ feed_position: move.to, last_event_id: move.eventId, attempts: 0, next_attempt_at: 0, last_error: null, lease_until: nowMs + leaseMs })
        .where('endpoint', '=', endpoint)
        .where('lease_owner', '=', owner)
        // A compare-and-set on the position: never moved from a place it no longer is.
        .where('feed_position', '=', move.from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async recordFailure(endpoint, owner, failure) {
      const result = await db
        .updateTable('webhook_cursors')
        .set({ attempts: failure.attempts, next_attempt_at: failure.nextAttemptAtMs, last_error: failure.error })
        .where('endpoint', '=', endpoint)
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async release(endpoint, owner) {
      await db
        .updateTable('webhook_cursors')
        .set({ lease_owner: null, lease_until: 0 })
        .where('endpoint', '=', endpoint)
        .where('lease_owner', '=', owner)
        .execute();
    },

    async get(endpoint) {
      const row = await db.selectFrom('webhook_cursors').selectAll().where('endpoint', '=', endpoint).executeTakeFirst();
      return row ? toCursor(row) : undefined;
    },
  };
}
