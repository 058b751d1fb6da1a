import type { Kysely } from 'kysely';
import type { Database } from '../database/tables.ts';
import { toEvent } from '../events/kysely-event-store.ts';
import { InvalidFeedPositionError, type EventStore } from '../events/session-event.ts';
import { InvalidLogPositionError, type EventLog } from './event-log.ts';

/**
 * The live streams' reads: the feed part is the event store's commit-ordered feed (issue 11:
 * PostgreSQL by transaction snapshots, SQLite by id), so a stream's position cannot pass over an
 * end that commits late; the snapshot part reads session_events by time (occurred_at index).
 */
export function createKyselyEventLog(db: Kysely<Database>, events: EventStore): EventLog {
  return {
    head: () => events.feedHead(),
    async after(position, options) {
      try {
        return await events.feedAfter(position, options);
      } catch (error) {
        if (error instanceof InvalidFeedPositionError) throw new InvalidLogPositionError(error.message);
        throw error;
      }
    },
    async stampedSince(sinceMs, { afterId, limit, types }) {
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
