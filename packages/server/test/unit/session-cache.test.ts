import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SessionCache, type CachedSession } from '../../src/sessions/session-cache.ts';
import { RevocationFeed } from '../../src/sessions/revocation-feed.ts';
import { migrateToLatest, openDatabase } from '../../src/database/database.ts';
import { createKyselyEventStore } from '../../src/events/kysely-event-store.ts';
import { createKyselySessionStore } from '../../src/sessions/kysely-session-store.ts';
import { TestClock } from '../helpers/clock.ts';

const entry = (id: string, overrides: Partial<CachedSession> = {}): CachedSession => ({
  id,
  userId: 'u1',
  expiresAtMs: Number.MAX_SAFE_INTEGER,
  lastActiveAtMs: 0,
  revoked: false,
  ...overrides,
});

describe('SessionCache invalidation rules', () => {
  test('untrusted until the feed has synced, and again once the sync is older than the bound', () => {
    const clock = new TestClock();
    const cache = new SessionCache({ maxEntries: 10, maxStalenessMs: 1000 });
    assert.equal(cache.isTrusted(clock.now()), false, 'never synced: fail closed');
    cache.markSynced(clock.now());
    assert.equal(cache.isTrusted(clock.now()), true);
    clock.advance(1000);
    assert.equal(cache.isTrusted(clock.now()), true, 'at the bound');
    clock.advance(1);
    assert.equal(cache.isTrusted(clock.now()), false, 'past the bound');
  });

  test('a revoked entry is a tombstone: a later fill with stale "active" state cannot resurrect it', () => {
    const cache = new SessionCache({ maxEntries: 10, maxStalenessMs: 1000 });
    cache.fill(entry('a'));
    cache.markRevoked(['a']);
    cache.fill(entry('a')); // e.g. a read that started before the revocation committed
    assert.equal(cache.get('a')?.revoked, true);
  });

  test('revoking an id not in the cache still leaves a tombstone (defeats an in-flight fill)', () => {
    const cache = new SessionCache({ maxEntries: 10, maxStalenessMs: 1000 });
    cache.markRevoked(['b']);
    cache.fill(entry('b'));
    assert.equal(cache.get('b')?.revoked, true);
  });

  test('bounded: the oldest entry is evicted at capacity; size never exceeds maxEntries', () => {
    const cache = new SessionCache({ maxEntries: 3, maxStalenessMs: 1000 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) cache.fill(entry(id));
    assert.equal(cache.size, 3);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('e'));
    cache.markRevoked(['x', 'y']);
    assert.equal(cache.size, 3);
  });

  test('maxEntries 0 disables caching entirely', () => {
    const cache = new SessionCache({ maxEntries: 0, maxStalenessMs: 1000 });
    cache.markSynced(0);
    cache.fill(entry('a'));
    cache.markRevoked(['a']);
    assert.equal(cache.size, 0);
    assert.equal(cache.isTrusted(0), false);
  });
});

describe('RevocationFeed (on a real SQLite store)', () => {
  async function realStore(t: import('node:test').TestContext) {
    const handle = openDatabase({ sqliteFile: ':memory:' });
    t.after(() => handle.close());
    await migrateToLatest(handle.db);
    const store = createKyselySessionStore(handle.db, { dialect: 'sqlite' });
    const events = createKyselyEventStore(handle.db, { dialect: 'sqlite' });
    await handle.db.insertInto('users').values({ id: 'u1', email: 'u1@example.com', name: null, password_hash: 'h', created_at: 0 }).execute();
    const add = async (id: string) =>
      store.create({ id, userId: 'u1', createdAtMs: 0, lastActiveAtMs: 0, expiresAtMs: Number.MAX_SAFE_INTEGER, revokedAtMs: null, revokeReason: null, ipAddress: null, userAgent: null, refreshGeneration: 0, refreshSalt: 's', refreshRotatedAtMs: null, authMethod: 'password', dpopJkt: null, unboundUseCount: 0, lastUnboundUseAtMs: null });
    const revokeAt = (id: string, atMs: number) => store.revoke(id, 'u1', 'user_revoked', { nowMs: atMs, idleCutoffMs: -1 });
    return { store, events, add, revokeAt };
  }

  test('marks revocations made elsewhere, whatever their revoked_at stamp (no look-back window)', async (t) => {
    const clock = new TestClock();
    const { events, add, revokeAt } = await realStore(t);
    const cache = new SessionCache({ maxEntries: 10, maxStalenessMs: 1000 });
    const feed = new RevocationFeed(events, cache, clock, { pollIntervalMs: 100, pageSize: 100, batchLimit: 100 });
    await add('s1');
    await add('s2');
    cache.fill(entry('s1'));
    cache.fill(entry('s2'));
    await feed.pollOnce();
    assert.equal(cache.get('s1')?.revoked, false);
    clock.advance(100);
    assert.equal(await revokeAt('s1', clock.now() - 3000), true); // a slow commit, or a process whose clock lags
    assert.equal(await revokeAt('s2', clock.now() - 3_600_000), true); // an hour late: still seen
    await feed.pollOnce();
    assert.equal(cache.get('s1')?.revoked, true);
    assert.equal(cache.get('s2')?.revoked, true);
    assert.equal(cache.isTrusted(clock.now()), true);
  });

  test('a failing poll does not refresh trust: the cache falls back to the database after the bound', async (t) => {
    const clock = new TestClock();
    const { events } = await realStore(t);
    const cache = new SessionCache({ maxEntries: 10, maxStalenessMs: 1000 });
    let down = false;
    // Fault injection: the database stops answering the feed's query.
    const faulty = { ...events, feedAfter: (...args: Parameters<typeof events.feedAfter>) => (down ? Promise.reject(new Error('database down')) : events.feedAfter(...args)) };
    const errors: unknown[] = [];
    const feed = new RevocationFeed(faulty, cache, clock, { pollIntervalMs: 100, pageSize: 100, batchLimit: 100 }, (e) => errors.push(e));
    await feed.pollOnce();
    assert.equal(cache.isTrusted(clock.now()), true);
    down = true;
    clock.advance(600);
    await feed.pollOnce();
    clock.advance(600);
    await feed.pollOnce();
    assert.equal(errors.length, 2);
    assert.equal(cache.isTrusted(clock.now()), false);
    down = false;
    await feed.pollOnce();
    assert.equal(cache.isTrusted(clock.now()), true, 'trusted again once a poll succeeds');
  });

  test('more revocations than one batch: read in pages, then the cache is cleared rather than partly updated', async (t) => {
    const clock = new TestClock();
    const { events, add, revokeAt } = await realStore(t);
    const cache = new SessionCache({ maxEntries: 10, maxStalenessMs: 1000 });
    const feed = new RevocationFeed(events, cache, clock, { pollIntervalMs: 100, pageSize: 2, batchLimit: 4 });
    await feed.pollOnce();
    for (let i = 0; i < 3; i++) {
      await add(`r${i}`);
      await revokeAt(`r${i}`, clock.now());
    }
    cache.fill(entry('live'));
    await feed.pollOnce();
    assert.deepEqual(['r0', 'r1', 'r2', 'live'].map((id) => cache.get(id)?.revoked), [true, true, true, false], 'three in two pages: tombstones');
    for (let i = 3; i < 8; i++) {
      await add(`r${i}`);
      await revokeAt(`r${i}`, clock.now());
    }
    await feed.pollOnce();
    assert.equal(cache.size, 0);
  });
});

describe('SessionCache epoch', () => {
  test('a read that started before tombstones were dropped does not fill the cache', () => {
    const cache = new SessionCache({ maxEntries: 2, maxStalenessMs: 1000 });
    const readStarted = cache.epoch;
    cache.markRevoked(['gone']);
    cache.clear(); // the tombstone of 'gone' is dropped; the feed will not report it again
    cache.fill(entry('gone'), readStarted);
    assert.equal(cache.get('gone'), undefined, 'the possibly stale read is not cached');
    const evictionStarted = cache.epoch;
    cache.markRevoked(['t1']);
    cache.fill(entry('a'));
    cache.fill(entry('b')); // evicts the tombstone t1
    cache.fill(entry('t1'), evictionStarted);
    assert.equal(cache.get('t1'), undefined);
    const liveStarted = cache.epoch;
    cache.fill(entry('c')); // evicts a live entry: nothing to fear
    cache.fill(entry('d'), liveStarted);
    assert.equal(cache.get('d')?.revoked, false);
  });
});
