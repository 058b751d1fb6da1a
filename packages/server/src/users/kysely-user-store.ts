import type { Kysely, Selectable } from 'kysely';
import type { Database, UserTable } from '../database/tables.ts';
import { isUniqueViolation } from '../database/errors.ts';
import type { User } from './user.ts';
import type { UserStore } from './user-store.ts';

function toUser(row: Pick<Selectable<UserTable>, 'id' | 'email' | 'name' | 'created_at' | 'external_id'>): User {
  return { id: row.id, email: row.email, name: row.name, createdAtMs: Number(row.created_at), externalId: row.external_id };
}

/** "No password" is stored as '' (see the migration of 2026-11-29): no hash function yields it. */
const NO_PASSWORD = '';

export function createKyselyUserStore(db: Kysely<Database>): UserStore {
  // Every read sees live accounts only: a deleted account's tombstone is nobody.
  const live = () => db.selectFrom('users').where('deleted_at', 'is', null);
  return {
    async create(user) {
      try {
        await db
          .insertInto('users')
          .values({
            id: user.id,
            email: user.email,
            name: user.name,
            password_hash: user.passwordHash ?? NO_PASSWORD,
            created_at: user.createdAtMs,
            external_id: user.externalId,
          })
          .execute();
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
    async findByEmail(email) {
      const row = await live().selectAll().where('email', '=', email).executeTakeFirst();
      return row ? { ...toUser(row), passwordHash: row.password_hash === NO_PASSWORD ? null : row.password_hash } : undefined;
    },
    async findById(id) {
      const row = await live().select(['id', 'email', 'name', 'created_at', 'external_id']).where('id', '=', id).executeTakeFirst();
      return row ? toUser(row) : undefined;
    },
    async count() {
      const row = await live().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async updatePasswordHash(id, passwordHash) {
      await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).where('deleted_at', 'is', null).execute();
    },
    async markDeleted(id, atMs) {
      // The email becomes `deleted:<id>`: unique, frees the address for a new sign-up, and no
      // sign-up can take it (not an email). An empty hash verifies no password. The external id
      // goes too: it names the person, and kept it would stop them from being provisioned again.
      const rows = await db
        .updateTable('users')
        .set({ deleted_at: atMs, email: `deleted:${id}`, name: null, password_hash: '', external_id: null })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returning('id')
        .execute();
      return rows.length === 1;
    },
  };
}
