import type { Kysely } from 'kysely';
import type { Database } from '../database/tables.ts';
import { appendEvents } from '../events/kysely-event-store.ts';
import type { PasswordResetStore } from './password-reset-store.ts';

/** Longest stored failure note (a short, secret-free reason). */
const MAX_ERROR_CHARS = 200;

export function createKyselyPasswordResetStore(db: Kysely<Database>): PasswordResetStore {
  return {
    async enqueue(email, nowMs) {
      await db.insertInto('password_reset_requests').values({ email, requested_at: nowMs, attempts: 0, next_attempt_at: nowMs, lease_until: 0 }).execute();
    },

    async claimDue(owner, nowMs, leaseMs, limit) {
      // One conditional UPDATE: the outer conditions are re-checked on the row actually locked
      // (PostgreSQL re-evaluates them after waiting for a concurrent claimer; SQLite serialises
      // writers), so two instances never lease the same request.
      const due = (eb: Kysely<Database>) =>
        eb.selectFrom('password_reset_requests').select('id').where('done_at', 'is', null).where('next_attempt_at', '<=', nowMs).where('lease_until', '<=', nowMs).orderBy('id').limit(limit);
      const rows = await db
        .updateTable('password_reset_requests')
        .set({ lease_owner: owner, lease_until: nowMs + leaseMs })
        .where('id', 'in', due(db))
        .where('done_at', 'is', null)
        .where('lease_until', '<=', nowMs)
        .returning(['id', 'email', 'requested_at', 'attempts'])
        .execute();
      return rows
        .map((r) => ({ id: Number(r.id), email: r.email, requestedAtMs: Number(r.requested_at), attempts: Number(r.attempts) }))
        .sort((a, b) => a.id - b.id);
    },

    async complete(id, owner, nowMs, note) {
      await db
        .updateTable('password_reset_requests')
        .set({ done_at: nowMs, lease_owner: null, lease_until: 0, last_error: note?.slice(0, MAX_ERROR_CHARS) ?? null })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .execute();
    },

    async recordFailure(id, owner, failure) {
      await db
        .updateTable('password_reset_requests')
        .set({ attempts: failure.attempts, next_attempt_at: failure.nextAttemptAtMs, last_error: failure.error.slice(0, MAX_ERROR_CHARS), lease_owner: null, lease_until: 0 })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .execute();
    },

    async saveToken(token, options = {}) {
      await db.transaction().execute(async (trx) => {
        const row = { user_id: token.userId, token_hash: token.tokenHash, created_at: token.createdAtMs, expires_at: token.expiresAtMs };
        await trx
          .insertInto('password_reset_tokens')
          .values(row)
          .onConflict((oc) => oc.column('user_id').doUpdateSet({ token_hash: row.token_hash, created_at: row.created_at, expires_at: row.expires_at }))
          .execute();
        if (options.event) await appendEvents(trx, [options.event]);
        const done = options.complete;
        if (done) {
          await trx
            .updateTable('password_reset_requests')
            .set({ done_at: done.nowMs, lease_owner: null, lease_until: 0 })
            .where('id', '=', done.id)
            .where('lease_owner', '=', done.owner)
            .execute();
        }
      });
    },

    async findUserByToken(tokenHash, nowMs) {
      const row = await db.selectFrom('password_reset_tokens').select('user_id').where('token_hash', '=', tokenHash).where('expires_at', '>', nowMs).executeTakeFirst();
      return row?.user_id;
    },

    async consume(tokenHash, nowMs, passwordHash) {
      return db.transaction().execute(async (trx) => {
        // The DELETE is the single use: of two concurrent confirmations, one deletes the row and
        // the other finds nothing.
        const used = await trx
          .deleteFrom('password_reset_tokens')
          .where('token_hash', '=', tokenHash)
          .where('expires_at', '>', nowMs)
          .returning('user_id')
          .executeTakeFirst();
        if (!used) return undefined;
        await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', used.user_id).execute();
        return used.user_id;
      });
    },

    async purge(doneBeforeMs, nowMs) {
      const requests = await db.deleteFrom('password_reset_requests').where('done_at', '<', doneBeforeMs).executeTakeFirst();
      const tokens = await db.deleteFrom('password_reset_tokens').where('expires_at', '<=', nowMs).executeTakeFirst();
      return Number(requests.numDeletedRows) + Number(tokens.numDeletedRows);
    },
  };
}
