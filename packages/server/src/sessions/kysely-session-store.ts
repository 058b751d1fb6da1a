import type { Kysely, Selectable } from 'kysely';
import type { Database, SessionTable } from '../database/tables.ts';
import type { RevokeReason, SessionRecord } from './session.ts';
import type { SessionStore } from './session-store.ts';

function toRecord(row: Selectable<SessionTable>): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    createdAtMs: Number(row.created_at),
    lastActiveAtMs: Number(row.last_active_at),
    expiresAtMs: Number(row.expires_at),
    revokedAtMs: row.revoked_at === null ? null : Number(row.revoked_at),
    revokeReason: row.revoke_reason as RevokeReason | null,
    ipAddress: row.ip_address,
    userAgent: row.user_agent,
    refreshGeneration: Number(row.refresh_generation),
    refreshSalt: row.refresh_salt,
    refreshRotatedAtMs: row.refresh_rotated_at === null ? null : Number(row.refresh_rotated_at),
  };
}

export function createKyselySessionStore(db: Kysely<Database>, options: { dialect: 'sqlite' | 'postgres' }): SessionStore {
  const isPostgres = options.dialect === 'postgres';
  // Every "active" query carries the same three conditions; built once here.
  const active = (userId: string, window: { nowMs: number; idleCutoffMs: number }) =>
    db
      .selectFrom('sessions')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', window.nowMs)
      .where('last_active_at', '>', window.idleCutoffMs);

  const insert = (executor: Kysely<Database>, s: SessionRecord) =>
    executor
      .insertInto('sessions')
        .values({
          id: s.id,
          user_id: s.userId,
          created_at: s.createdAtMs,
          last_active_at: s.lastActiveAtMs,
          expires_at: s.expiresAtMs,
          revoked_at: s.revokedAtMs,
          revoke_reason: s.revokeReason,
          ip_address: s.ipAddress,
          user_agent: s.userAgent,
          refresh_generation: s.refreshGeneration,
          refresh_salt: s.refreshSalt,
          refresh_rotated_at: s.refreshRotatedAtMs,
        })
        .execute();

  return {
    async create(s, limit) {
      if (!limit || limit.maxActive <= 0) {
        await insert(db, s);
        return { created: true, evictedIds: [] };
      }
      return db.transaction().execute(async (trx) => {
        // Serialise concurrent sign-ins of one user so two of them cannot both see "one slot left".
        // PostgreSQL: row lock on the user. SQLite: a write transaction is already exclusive.
        if (isPostgres) await trx.selectFrom('users').select('id').where('id', '=', s.userId).forUpdate().execute();
        const live = await trx
          .selectFrom('sessions')
          .select('id')
          .where('user_id', '=', s.userId)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', limit.window.nowMs)
          .where('last_active_at', '>', limit.window.idleCutoffMs)
          .orderBy('last_active_at', 'asc')
          .orderBy('id', 'asc')
          .execute();
        const excess = live.length - limit.maxActive + 1;
        let evictedIds: string[] = [];
        if (excess > 0) {
          if (limit.mode === 'refuse') return { created: false, evictedIds };
          evictedIds = live.slice(0, excess).map((r) => r.id);
          await trx
            .updateTable('sessions')
            .set({ revoked_at: limit.window.nowMs, revoke_reason: 'session_limit' })
            .where('id', 'in', evictedIds)
            .execute();
        }
        await insert(trx, s);
        return { created: true, evictedIds };
      });
    },

    async get(sessionId) {
      const row = await db.selectFrom('sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },

    async listActive(userId, window, page) {
      const [rows, total] = await Promise.all([
        active(userId, window)
          .selectAll()
          .orderBy('last_active_at', 'desc')
          .orderBy('id', 'asc')
          .limit(page.limit)
          .offset(page.offset)
          .execute(),
        this.countActive(userId, window),
      ]);
      return { sessions: rows.map(toRecord), total };
    },

    async countActive(userId, window) {
      const row = await active(userId, window).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async rotateRefresh(sessionId, fromGeneration, atMs) {
      const result = await db
        .updateTable('sessions')
        .set({ refresh_generation: fromGeneration + 1, refresh_rotated_at: atMs })
        .where('id', '=', sessionId)
        .where('refresh_generation', '=', fromGeneration)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async touch(sessionId, atMs) {
      await db
        .updateTable('sessions')
        .set({ last_active_at: atMs })
        .where('id', '=', sessionId)
        .where('last_active_at', '<', atMs)
        .execute();
    },

    async revoke(sessionId, userId, reason, window) {
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: window.nowMs, revoke_reason: reason })
        .where('id', '=', sessionId)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', window.nowMs)
        .where('last_active_at', '>', window.idleCutoffMs)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async revokeAll(userId, reason, window, options = {}) {
      let query = db
        .updateTable('sessions')
        .set({ revoked_at: window.nowMs, revoke_reason: reason })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', window.nowMs)
        .where('last_active_at', '>', window.idleCutoffMs);
      if (options.exceptSessionId) query = query.where('id', '!=', options.exceptSessionId);
      const rows = await query.returning('id').execute();
      return rows.map((r) => r.id);
    },

    async markExpired(window, limit) {
      const due = await db
        .selectFrom('sessions')
        .select(['id', 'user_id', 'expires_at'])
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', '<=', window.nowMs), eb('last_active_at', '<=', window.idleCutoffMs)]))
        .limit(limit)
        .execute();
      const marked: Array<{ id: string; userId: string; reason: 'idle_timeout' | 'absolute_timeout' }> = [];
      for (const reason of ['absolute_timeout', 'idle_timeout'] as const) {
        const ids = due.filter((r) => (Number(r.expires_at) <= window.nowMs) === (reason === 'absolute_timeout')).map((r) => r.id);
        if (ids.length === 0) continue;
        // Re-check "still unrevoked" in the write: a concurrent revocation keeps its own reason.
        const rows = await db
          .updateTable('sessions')
          .set({ revoked_at: window.nowMs, revoke_reason: reason })
          .where('id', 'in', ids)
          .where('revoked_at', 'is', null)
          .returning(['id', 'user_id'])
          .execute();
        for (const r of rows) marked.push({ id: r.id, userId: r.user_id, reason });
      }
      return marked;
    },

    async purgeEnded(endedBeforeMs, limit) {
      const result = await db
        .deleteFrom('sessions')
        .where('id', 'in', (eb) => eb.selectFrom('sessions').select('id').where('revoked_at', '<', endedBeforeMs).limit(limit))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async revokedSince(sinceMs, limit) {
      const rows = await db
        .selectFrom('sessions')
        .select(['id', 'revoked_at'])
        .where('revoked_at', '>=', sinceMs)
        .orderBy('revoked_at', 'asc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: r.id, revokedAtMs: Number(r.revoked_at) }));
    },
  };
}
