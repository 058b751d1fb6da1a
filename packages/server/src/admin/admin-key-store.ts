import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../database/tables.ts';

/**
 * Admin API keys: `sdk_admin_<id>.<secret>`. Only SHA-256(secret) is stored (the secret is 256
 * random bits, so a fast hash is enough: there is nothing to brute-force); the id finds the row and
 * the hash is compared in constant time.
 */
export interface AdminKey {
  id: string;
  name: string;
  createdAtMs: number;
  revokedAtMs: number | null;
}

const SHAPE = /^sdk_admin_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest();

export interface AdminKeyStore {
  /** Creates a key; the returned secret is shown once and never stored. */
  create(name: string, nowMs: number): Promise<{ key: AdminKey; secret: string }>;
  /** The live key a presented secret belongs to, or undefined. */
  verify(presented: string): Promise<AdminKey | undefined>;
  /** Revokes a key by id; false when unknown or already revoked. */
  revoke(id: string, nowMs: number): Promise<boolean>;
  list(): Promise<AdminKey[]>;
}

export function createKyselyAdminKeyStore(db: Kysely<Database>): AdminKeyStore {
  const toKey = (r: { id: string; name: string; created_at: number; revoked_at: number | null }): AdminKey => ({
    id: r.id,
    name: r.name,
    createdAtMs: Number(r.created_at),
    revokedAtMs: r.revoked_at === null ? null : Number(r.revoked_at),
  });
  return {
    async create(name, nowMs) {
      const id = crypto.randomBytes(8).toString('hex');
      const secretPart = crypto.randomBytes(32).toString('base64url');
      await db
        .insertInto('admin_keys')
        .values({ id, name, secret_hash: sha256(secretPart).toString('hex'), created_at: nowMs, revoked_at: null })
        .execute();
      return { key: { id, name, createdAtMs: nowMs, revokedAtMs: null }, secret: `sdk_admin_${id}.${secretPart}` };
    },
    async verify(presented) {
      const m = SHAPE.exec(presented);
      if (!m) return undefined;
      const row = await db.selectFrom('admin_keys').selectAll().where('id', '=', m[1]!).executeTakeFirst();
      if (!row || row.revoked_at !== null) return undefined;
      const expected = Buffer.from(row.secret_hash, 'hex');
      // Constant-time comparison: response timing must not reveal how much of a guess matched.
      return crypto.timingSafeEqual(expected, sha256(m[2]!)) ? toKey(row) : undefined;
    },
    async revoke(id, nowMs) {
      const r = await db.updateTable('admin_keys').set({ revoked_at: nowMs }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async list() {
      return (await db.selectFrom('admin_keys').selectAll().orderBy('created_at', 'asc').execute()).map(toKey);
    },
  };
}
