import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, SessionEventTable } from '../database/tables.ts';
import { InvalidFeedPositionError, type EventStore, type FeedPage, type NewSessionEvent, type SessionEvent, type SessionEventType } from './session-event.ts';

/** Appends events inside the caller's transaction: the outbox write commits or rolls back with the change. */
export async function appendEvents(trx: Kysely<Database> | Transaction<Database>, events: NewSessionEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto('session_events')
    .values(
      events.map((e) => ({
        type: e.type,
        // The column predates events without a session: '' stands for none.
        session_id: e.sessionId ?? '',
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
    sessionId: row.session_id === '' ? null : row.session_id,
    userId: row.user_id,
    reason: row.reason,
    occurredAtMs: Number(row.occurred_at),
    data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : {},
  };
}

/** A pg_snapshot as text: `xmin:xmax:xip,xip,…` (the in-progress list may be empty). */
const SNAPSHOT = /^\d{1,20}:\d{1,20}:(\d{1,20}(,\d{1,20})*)?$/;
const EVENT_ID = /^\d{1,16}$/;
/** Bounds a position's length: the in-progress list is bounded by the server's max_connections. */
const MAX_POSITION_LENGTH = 64_000;

/**
 * A PostgreSQL feed position, `<from>/<to>/<afterId>`:
 * - `from`: the snapshot of an earlier read; every event whose transaction was visible in it has
 *   been read, and none of the others.
 * - `to` (empty until the next read takes it): the snapshot that ends the segment being read; the
 *   segment is the events visible in `to` and not in `from`, read in id order.
 * - `afterId`: within the segment, the events up to this id have been read.
 */
interface PostgresPosition {
  from: string;
  to: string | undefined;
  afterId: number;
}

function parsePostgresPosition(position: string): PostgresPosition {
  const parts = position.length <= MAX_POSITION_LENGTH ? position.split('/') : [];
  const [from, to, afterId] = parts;
  if (parts.length !== 3 || !SNAPSHOT.test(from!) || (to !== '' && !SNAPSHOT.test(to!)) || !EVENT_ID.test(afterId!)) {
    throw new InvalidFeedPositionError('Not a feed position of this database.');
  }
  return { from: from!, to: to || undefined, afterId: Number(afterId) };
}

function parseSqlitePosition(position: string): number {
  if (!EVENT_ID.test(position)) throw new InvalidFeedPositionError('Not a feed position of this database.');
  return Number(position);
}

export function createKyselyEventStore(db: Kysely<Database>, options: { dialect: 'sqlite' | 'postgres' }): EventStore {
  const isPostgres = options.dialect === 'postgres';
  const lastId = async () => {
    const row = await db.selectFrom('session_events').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
    return Number(row?.max ?? 0);
  };
  const currentSnapshot = async () => (await sql<{ s: string }>`select pg_current_snapshot()::text as s`.execute(db)).rows[0]!.s;

  /**
   * PostgreSQL: a transaction's events become visible all at once, when it commits, and a snapshot
   * says exactly which transactions had (pg_visible_in_snapshot: committed-or-aborted before it;
   * not in progress, not later). So "visible in `to` and not in `from`" is precisely what committed
   * between two reads, whatever the events' ids or timestamps: a transaction that commits late is
   * simply in a later segment. Nothing is assumed about how long a transaction takes or about clocks.
   * The txid range is the index's part: a transaction not visible in `from` has txid >= its xmin,
   * and one visible in `to` has txid < its xmax. A long transaction elsewhere in the cluster holds
   * xmin back and widens that range (more index entries read per poll), never the result.
   */
  async function postgresFeedAfter(position: string, limit: number, types: readonly SessionEventType[] | undefined): Promise<FeedPage> {
    const p = parsePostgresPosition(position);
    const to = p.to ?? (await currentSnapshot());
    let q = db
      .selectFrom('session_events')
      .selectAll()
      .where(sql<boolean>`txid >= pg_snapshot_xmin(${p.from}::pg_snapshot)`)
      .where(sql<boolean>`txid < pg_snapshot_xmax(${to}::pg_snapshot)`)
      .where(sql<boolean>`not pg_visible_in_snapshot(txid, ${p.from}::pg_snapshot)`)
      .where(sql<boolean>`pg_visible_in_snapshot(txid, ${to}::pg_snapshot)`)
      .where('id', '>', p.afterId);
    if (types) q = q.where('type', 'in', [...types]);
    const rows = await q.orderBy('id', 'asc').limit(limit).execute();
    const events = rows.map((row) => ({ ...toEvent(row), position: `${p.from}/${to}/${Number(row.id)}` }));
    if (rows.length === limit) return { events, position: events.at(-1)!.position, more: true };
    // The segment is read to its end: the next one starts at `to`. When this one was an older
    // segment (resumed from a stored position), the page is filled from the next one, up to now.
    const next = `${to}//0`;
    if (!p.to) return { events, position: next, more: false };
    const rest = await postgresFeedAfter(next, limit - events.length, types);
    return { events: [...events, ...rest.events], position: rest.position, more: rest.more };
  }

  /** SQLite: one writer at a time, ids taken inside it, so id order is commit order. */
  async function sqliteFeedAfter(position: string, limit: number, types: readonly SessionEventType[] | undefined): Promise<FeedPage> {
    // The newest id first, so that a page that is not full can move the position past the events
    // the filter left out (instead of scanning them again at every read).
    const headId = await lastId();
    let q = db.selectFrom('session_events').selectAll().where('id', '>', parseSqlitePosition(position)).where('id', '<=', headId);
    if (types) q = q.where('type', 'in', [...types]);
    const rows = await q.orderBy('id', 'asc').limit(limit).execute();
    const events = rows.map((row) => ({ ...toEvent(row), position: String(Number(row.id)) }));
    const more = rows.length === limit;
    return { events, position: more ? events.at(-1)!.position : String(Math.max(headId, parseSqlitePosition(position))), more };
  }

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
    lastId,
    async feedHead() {
      return isPostgres ? `${await currentSnapshot()}//0` : String(await lastId());
    },
    async feedAfter(position, { limit, types }) {
      return isPostgres ? postgresFeedAfter(position, limit, types) : sqliteFeedAfter(position, limit, types);
    },
  };
}
