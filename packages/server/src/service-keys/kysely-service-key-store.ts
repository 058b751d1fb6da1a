import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, ServiceKeyTable } from '../database/tables.ts';
import { isServiceKeyScope, type ServiceKey } from './service-key.ts';
import type { ServiceKeyStore } from './service-key-store.ts';

/**
 * Service keys look like `sdk_svc_<id>.<secret>`, the admin keys' scheme (admin/admin-key-store.ts)
 * with another prefix, so neither kind can be mistaken for the other. Only SHA-256(secret) is
 * stored: the secret is 256 random bits, so a fast hash is enough (there is nothing to brute-force)
 * and a database dump authorises nothing. The id finds the row; the hash is compared in constant time.
 */
const SHAPE = /^sdk_svc_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest();

function toKey(row: Pick<ServiceKeyTable, 'id' | 'name' | 'scopes' | 'created_at' | 'revoked_at'>): ServiceKey {
  return {
    id: row.id,
    name: row.name,
    // Stored space-separated (OAuth's scope syntax); an unknown word (a scope of a later version,
    // after a downgrade) grants nothing.
    scopes: row.scopes.split(' ').filter(isServiceKeyScope),
    createdAtMs: Number(row.created_at),
    revokedAtMs: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

export function createKyselyServiceKeyStore(db: Kysely<Database>): ServiceKeyStore {
  return {
    async create(name, scopes, nowMs) {
      const id = crypto.randomBytes(8).toString('hex');
      const secretPart = crypto.randomBytes(32).toString('base64url');
      const row = { id, name, scopes: [...new Set(scopes)].join(' '), secret_hash: sha256(secretPart).toString('hex'), created_at: nowMs, revoked_at: null };
      await db.insertInto('service_keys').values(row).execute();
      return { key: toKey(row), secret: `sdk_svc_${id}.${secretPart}` };
    },
    async verify(presented) {
      const m = SHAPE.exec(presented);
      if (!m) return undefined;
      const row = await db.selectFrom('service_keys').selectAll().where('id', '=', m[1]!).executeTakeFirst();
      if (!row || row.revoked_at !== null) return undefined;
      // Constant-time comparison: response timing must not reveal how much of a guess matched.
      return crypto.timingSafeEqual(Buffer.from(row.secret_hash, 'hex'), sha256(m[2]!)) ? toKey(row) : undefined;
    },
    async revoke(id, nowMs) {
      const r = await db.updateTable('service_keys').set({ revoked_at: nowMs }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async list() {
      return (await db.selectFrom('service_keys').selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc').execute()).map(toKey);
    },
  };
}
