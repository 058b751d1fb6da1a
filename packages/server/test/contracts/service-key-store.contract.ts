import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/database/tables.ts';
import type { ServiceKeyStore } from '../../src/service-keys/service-key-store.ts';

export type ServiceKeyStoreFactory = (t: TestContext) => Promise<{ keys: ServiceKeyStore; db: Kysely<Database> } | undefined>;

const T0 = Date.UTC(2026, 10, 29, 3);

/** What every backend's service-key store must answer. */
export function serviceKeyStoreContract(open: ServiceKeyStoreFactory) {
  test('service keys: created with scopes, secret shown once and stored only as a hash, verified, revoked', async (t) => {
    const s = await open(t);
    if (!s) return;
    const reader = await s.keys.create('verifier', ['revocations:read'], T0);
    const issuer = await s.keys.create('backend', ['sessions:issue', 'sessions:issue'], T0 + 1);
    assert.match(reader.secret, /^sdk_svc_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(issuer.key.scopes, ['sessions:issue'], 'a scope asked for twice is held once');

    assert.deepEqual(await s.keys.verify(reader.secret), { id: reader.key.id, name: 'verifier', scopes: ['revocations:read'], createdAtMs: T0, revokedAtMs: null });
    assert.deepEqual((await s.keys.verify(issuer.secret))?.scopes, ['sessions:issue']);
    // The right id with a wrong secret, a malformed value, an admin key's shape: nothing.
    const [prefix] = reader.secret.split('.');
    assert.equal(await s.keys.verify(`${prefix}.${'A'.repeat(43)}`), undefined);
    assert.equal(await s.keys.verify('sdk_svc_nothex.xyz'), undefined);
    assert.equal(await s.keys.verify(reader.secret.replace('sdk_svc_', 'sdk_admin_')), undefined);

    const rows = await s.db.selectFrom('service_keys').selectAll().execute();
    assert.equal(rows.length, 2);
    for (const secret of [reader.secret, issuer.secret]) assert.ok(!JSON.stringify(rows).includes(secret.split('.')[1]!), 'only a hash of the secret is stored');

    assert.equal(await s.keys.revoke(reader.key.id, T0 + 10), true);
    assert.equal(await s.keys.revoke(reader.key.id, T0 + 11), false, 'already revoked');
    assert.equal(await s.keys.revoke('0000000000000000', T0 + 11), false, 'unknown');
    assert.equal(await s.keys.verify(reader.secret), undefined, 'a revoked key verifies nothing');
    assert.deepEqual(
      (await s.keys.list()).map((k) => [k.name, k.scopes, k.revokedAtMs]),
      [['verifier', ['revocations:read'], T0 + 10], ['backend', ['sessions:issue'], null]],
    );
  });
}
