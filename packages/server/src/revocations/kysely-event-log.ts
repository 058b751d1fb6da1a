import type { Kysely } from 'kysely';
import type { Database } from '../database/tables.ts';
import { toEvent } from '../events/kysely-event-store.ts';
import { InvalidLogPositionError, type EventLog } from './event-log.ts';

const EVENT_ID = /^\d{1,16}$/;

/**
 * INTERIM, until the commit-ordered feed of issue 11 (branch `feed`) is merged: positions are event
 * ids. Exact on SQLite (one writer at a time: id order is commit order); on PostgreSQL an id taken by
 * a transaction that commits after a higher one was read would be passed over.
 */
export function createKyselyEventLog(db: Kysely<Database>): EventLog {
  const headId = async () => {
    const row = await db.selectFrom('session_events').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
    return Number(row?.max ?? 0);
  };
  return {
    async head() {
      return String(await headId());
    },
    async after(position, { limit, types }) {
      if (!EVENT_ID.test(position)) throw new InvalidLogPositionError('Not a position of this feed.');
      let q = db.selectFrom('session_events').selectAll().where('id', '>', Number(position));
      if (types) q = q.where('type', 'in', [...types]);
      const rows = await q.orderBy('id', 'asc').limit(limit).execute();
      const events = rows.map((row) => ({ ...toEvent(row), position: String(Number(row.id)) }));
      return { events, position: events.at(-1)?.position ?? position, more: rows.length === limit };
    },
    async stampedSince(sinceMs, afterId, limit, types) {
      const rows = await db
        .selectFrom('session_events')
        .selectAll()
        .where('occurred_at', '>=', sinceMs)
        .where('id', '>', afterId)
        .where('type', 'in', [...types])
        .orderBy('id', 'asc')
        .limit(limit)
        .execute();
      return rows.map(toEvent);
    },
  };
}
