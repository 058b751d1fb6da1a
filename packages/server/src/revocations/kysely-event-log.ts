import type { Kysely } from 'kysely';
import type { Database } from '../database/tables.ts';
import { toEvent } from '../events/kysely-event-store.ts';
import type { EventLog } from './event-log.ts';

/** The live streams' reads of session_events; all of them use the (type, id), id or occurred_at indexes. */
export function createKyselyEventLog(db: Kysely<Database>): EventLog {
  return {
    async headId() {
      const row = await db.selectFrom('session_events').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
      return Number(row?.max ?? 0);
    },
    async after(afterId, limit, types) {
      let q = db.selectFrom('session_events').selectAll().where('id', '>', afterId);
      if (types) q = q.where('type', 'in', [...types]);
      return (await q.orderBy('id', 'asc').limit(limit).execute()).map(toEvent);
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
    async stampOf(id) {
      const row = await db.selectFrom('session_events').select('occurred_at').where('id', '=', id).executeTakeFirst();
      return row ? Number(row.occurred_at) : undefined;
    },
  };
}
