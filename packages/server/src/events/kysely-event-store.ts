import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, SessionEventTable } from '../database/tables.ts';
import type { EventStore, NewSessionEvent, SessionEvent, SessionEventType } from './session-event.ts';

/** Appends events inside the caller's transaction: the outbox write commits or rolls back with the change. */
export async function appendEvents(trx: Kysely<Database> | Transaction<Database>, events: NewSessionEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto('session_events')
    .values(
      events.map((e) => ({
        type: e.type,
        session_id: e.sessionId,
        user_id: e.userId,
        reason: e.reason,
        occurred_at: e.occurredAtMs,
        data: e.data ? JSON.stringify(e.data) : null,
      })),
    )
    .execute();
}

/** A session_events row as a domain event (also read by revocations/kysely-event-log.ts). */
export function toEvent(row: Selectable<SessionEventTable>): SessionEvent {
  return {
    id: Number(row.id),
    type: row.type as SessionEventType,
    sessionId: row.session_id,
    userId: row.user_id,
    reason: row.reason,
    occurredAtMs: Number(row.occurred_at),
    data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : {},
  };
}

export function createKyselyEventStore(db: Kysely<Database>): EventStore {
  return {
    async list(filter, limit) {
      let q = db.selectFrom('session_events').selectAll();
      if (filter.type) q = q.where('type', '=', filter.type);
      if (filter.userId) q = q.where('user_id', '=', filter.userId);
      if (filter.sessionId) q = q.where('session_id', '=', filter.sessionId);
      if (filter.afterId !== undefined) q = q.where('id', '>', filter.afterId);
      const rows = await q.orderBy('id', 'asc').limit(limit).execute();
      return rows.map(toEvent);
    },
    async lastId() {
      const row = await db.selectFrom('session_events').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
      return Number(row?.max ?? 0);
    },
  };
}
