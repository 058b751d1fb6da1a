import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/database/tables.ts';
import { activeWindow, type LifetimePolicy, type SessionRecord } from '../../src/sessions/session.ts';
import type { SessionStore } from '../../src/sessions/session-store.ts';
import type { UserStore } from '../../src/users/user-store.ts';
import { appendEvents } from '../../src/events/kysely-event-store.ts';
import { InvalidFeedPositionError, type EventStore } from '../../src/events/session-event.ts';

/**
 * The storage contract, written once and run against every backend (SQLite always, PostgreSQL in
 * CI): whatever a backend does inside, these are the answers the services rely on.
 */
export interface StoreFactory {
  (t: import('node:test').TestContext): Promise<{ sessions: SessionStore; users: UserStore; events: EventStore; db: Kysely<Database>; dialect: 'sqlite' | 'postgres' } | undefined>;
}

const policy: LifetimePolicy = { idleTimeoutMs: 3_600_000, absoluteLifetimeMs: 86_400_000 };
const T0 = Date.UTC(2026, 10, 27, 12);

async function seedUser(users: UserStore, email = `u${crypto.randomUUID()}@example.com`) {
  const id = crypto.randomUUID();
  assert.equal(await users.create({ id, email, name: null, passwordHash: 'h', createdAtMs: T0, externalId: null }), true);
  return id;
}

function session(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: crypto.randomUUID(),
    userId,
    createdAtMs: T0,
    lastActiveAtMs: T0,
    expiresAtMs: T0 + policy.absoluteLifetimeMs,
    revokedAtMs: null,
    revokeReason: null,
    ipAddress: '203.0.113.9',
    userAgent: 'test-agent',
    refreshGeneration: 0,
    refreshSalt: 'salt',
    refreshRotatedAtMs: null,
    dpopJkt: null,
    unboundUseCount: 0,
    lastUnboundUseAtMs: null,
    authMethod: 'password',
    ...overrides,
  };
}

export function sessionStoreContract(open: StoreFactory) {
  test('users: create, find case-normalised email, duplicate refused without change', async (t) => {
    const s = await open(t);
    if (!s) return;
    const id = crypto.randomUUID();
    assert.equal(await s.users.create({ id, email: 'ann@example.com', name: 'Ann', passwordHash: 'h1', createdAtMs: T0, externalId: null }), true);
    assert.equal(await s.users.create({ id: crypto.randomUUID(), email: 'ann@example.com', name: 'Other', passwordHash: 'h2', createdAtMs: T0, externalId: null }), false);
    const found = await s.users.findByEmail('ann@example.com');
    assert.deepEqual(found, { id, email: 'ann@example.com', name: 'Ann', passwordHash: 'h1', createdAtMs: T0, externalId: null });
    assert.deepEqual(await s.users.findById(id), { id, email: 'ann@example.com', name: 'Ann', createdAtMs: T0, externalId: null });
    assert.equal(await s.users.findById(crypto.randomUUID()), undefined);
    await s.users.updatePasswordHash(id, 'h3');
    assert.equal((await s.users.findByEmail('ann@example.com'))?.passwordHash, 'h3');
    // A user without a password (created by the application's backend), with its external id:
    // the external id is unique too.
    const bob = crypto.randomUUID();
    assert.equal(await s.users.create({ id: bob, email: 'bob@example.com', name: null, passwordHash: null, createdAtMs: T0, externalId: 'ext-1' }), true);
    assert.deepEqual(await s.users.findByEmail('bob@example.com'), { id: bob, email: 'bob@example.com', name: null, passwordHash: null, createdAtMs: T0, externalId: 'ext-1' });
    assert.equal(await s.users.create({ id: crypto.randomUUID(), email: 'carl@example.com', name: null, passwordHash: null, createdAtMs: T0, externalId: 'ext-1' }), false);
  });

  test('users: markDeleted erases the account (not found, not counted, email free) and keeps its sessions as history', async (t) => {
    const s = await open(t);
    if (!s) return;
    const id = await seedUser(s.users, 'gone@example.com');
    const keep = await seedUser(s.users, 'stays@example.com');
    await s.sessions.create(session(id));
    assert.equal(await s.users.count(), 2);
    assert.equal(await s.users.markDeleted(id, T0 + 1), true);
    assert.equal(await s.users.markDeleted(id, T0 + 2), false, 'only once');
    assert.equal(await s.users.markDeleted(crypto.randomUUID(), T0), false, 'unknown id');
    assert.equal(await s.users.findById(id), undefined);
    assert.equal(await s.users.findByEmail('gone@example.com'), undefined);
    assert.equal(await s.users.findByEmail(`deleted:${id}`), undefined, 'the tombstone is nobody, whatever its email');
    assert.equal(await s.users.count(), 1);
    assert.ok(await s.users.findById(keep));
    const row = await s.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual([row.name, row.password_hash, Number(row.deleted_at)], [null, '', T0 + 1], 'name and password hash erased');
    assert.notEqual(row.email, 'gone@example.com');
    assert.equal((await s.sessions.listAll(id, 'all', activeWindow(policy, T0), { offset: 0, limit: 10 })).total, 1, 'sessions stay as history');
    // The address can sign up again, as a new account.
    assert.equal(await s.users.create({ id: crypto.randomUUID(), email: 'gone@example.com', name: null, passwordHash: 'h', createdAtMs: T0, externalId: null }), true);
    await s.users.updatePasswordHash(id, 'h4');
    assert.equal((await s.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash, '', 'a tombstone gets no password');
  });

  test('sessions: create and get round-trip every field', async (t) => {
    const s = await open(t);
    if (!s) return;
    const userId = await seedUser(s.users);
    const record = session(userId, { refreshRotatedAtMs: T0 + 5, refreshGeneration: 3, authMethod: 'oauth:google' });
    await s.sessions.create(record);
    assert.deepEqual(await s.sessions.get(record.id), record);
    assert.equal(await s.sessions.get(crypto.randomUUID()), undefined);
  });

  test('listActive and countActive: only active sessions of that user, newest activity first, paged', async (t) => {
    const s = await open(t);
    if (!s) return;
    const alice = await seedUser(s.users);
    const bob = await seedUser(s.users);
    const now = T0 + 10_000;
    const live = [1, 2, 3].map((i) => session(alice, { lastActiveAtMs: T0 + i * 1000 }));
    const revoked = session(alice, { revokedAtMs: T0, revokeReason: 'user_revoked' });
    const idle = session(alice, { lastActiveAtMs: now - policy.idleTimeoutMs });
    const absolute = session(alice, { expiresAtMs: now });
    const bobs = session(bob);
    for (const r of [...live, revoked, idle, absolute, bobs]) await s.sessions.create(r);
    const window = activeWindow(policy, now);
    assert.equal(await s.sessions.countActive(alice, window), 3);
    const page1 = await s.sessions.listActive(alice, window, { offset: 0, limit: 2 });
    assert.equal(page1.total, 3);
    assert.deepEqual(page1.sessions.map((x) => x.id), [live[2]!.id, live[1]!.id]);
    const page2 = await s.sessions.listActive(alice, window, { offset: 2, limit: 2 });
    assert.deepEqual(page2.sessions.map((x) => x.id), [live[0]!.id]);
  });

  test('listActive: the same order (activity, then id) and totals for a few sessions (sorted in memory) and for many (the paged query)', async (t) => {
    const s = await open(t);
    if (!s) return;
    const now = T0 + 10_000;
    const window = activeWindow(policy, now);
    // Equal activity times among them, so the id decides; a user with 7 and one past the in-memory bound.
    for (const count of [7, 130]) {
      const userId = await seedUser(s.users);
      const made = Array.from({ length: count }, (_, i) => session(userId, { lastActiveAtMs: T0 + (i % 3) * 1000 }));
      for (const r of made) await s.sessions.create(r);
      const expected = made
        .slice()
        .sort((a, b) => b.lastActiveAtMs - a.lastActiveAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((r) => r.id);
      const limit = 20;
      const seen: string[] = [];
      for (let offset = 0; offset < count + limit; offset += limit) {
        const page = await s.sessions.listActive(userId, window, { offset, limit });
        assert.equal(page.total, count, `${count} sessions: total at offset ${offset}`);
        seen.push(...page.sessions.map((x) => x.id));
      }
      assert.deepEqual(seen, expected, `${count} sessions: every page in order, none twice`);
      assert.equal(await s.sessions.countActive(userId, window), count);
    }
  });

  test('rotateRefresh is a compare-and-set: of concurrent callers exactly one wins', async (t) => {
    const s = await open(t);
    if (!s) return;
    const userId = await seedUser(s.users);
    const r = session(userId);
    await s.sessions.create(r);
    const results = await Promise.all(Array.from({ length: 10 }, () => s.sessions.rotateRefresh(r.id, 0, T0 + 1)));
    assert.equal(results.filter(Boolean).length, 1);
    const after = await s.sessions.get(r.id);
    assert.equal(after?.refreshGeneration, 1);
    assert.equal(after?.refreshRotatedAtMs, T0 + 1);
    assert.equal(await s.sessions.rotateRefresh(r.id, 0, T0 + 2), false, 'stale generation loses');
    await s.sessions.revoke(r.id, userId, 'user_logout', activeWindow(policy, T0 + 3));
    assert.equal(await s.sessions.rotateRefresh(r.id, 1, T0 + 4), false, 'a revoked session never rotates');
  });

  test('recordUnboundUse: the event, and the count and latest time on the session (never moved back); nothing else changes', async (t) => {
    const s = await open(t);
    if (!s) return;
    const userId = await seedUser(s.users);
    const bound = session(userId, { dpopJkt: 'jkt-of-the-device-key' });
    const other = session(userId);
    await s.sessions.create(bound);
    await s.sessions.create(other);
    await s.sessions.recordUnboundUse(bound.id, userId, T0 + 20, { proof: 'missing' });
    await s.sessions.recordUnboundUse(bound.id, userId, T0 + 10, { proof: 'other_key' }); // recorded late
    assert.deepEqual(await s.sessions.get(bound.id), { ...bound, unboundUseCount: 2, lastUnboundUseAtMs: T0 + 20 });
    assert.deepEqual(await s.sessions.get(other.id), other);
    const { sessions: listed } = await s.sessions.listActive(userId, activeWindow(policy, T0 + 30), { offset: 0, limit: 10 });
    assert.deepEqual(listed.map((r) => [r.id, r.unboundUseCount, r.lastUnboundUseAtMs]).sort(), [[bound.id, 2, T0 + 20], [other.id, 0, null]].sort());
    const events = await s.events.list({ sessionId: bound.id, type: 'refresh_token.unbound_use' }, 10);
    assert.deepEqual(events.map((e) => [e.occurredAtMs, e.data.proof]), [[T0 + 20, 'missing'], [T0 + 10, 'other_key']]);
  });

  test('touch only moves lastActiveAt forward', async (t) => {
    const s = await open(t);
    if (!s) return;
    const userId = await seedUser(s.users);
    const r = session(userId);
    await s.sessions.create(r);
    await s.sessions.touch(r.id, T0 + 5000);
    await s.sessions.touch(r.id, T0 + 1000);
    assert.equal((await s.sessions.get(r.id))?.lastActiveAtMs, T0 + 5000);
  });

  test('revoke checks ownership and activity in the same statement; history is kept', async (t) => {
    const s = await open(t);
    if (!s) return;
    const alice = await seedUser(s.users);
    const mallory = await seedUser(s.users);
    const r = session(alice);
    await s.sessions.create(r);
    const window = activeWindow(policy, T0 + 100);
    assert.equal(await s.sessions.revoke(r.id, mallory, 'user_revoked', window), false, "another user's session is a no-op");
    assert.equal((await s.sessions.get(r.id))?.revokedAtMs, null);
    assert.equal(await s.sessions.revoke(crypto.randomUUID(), alice, 'user_revoked', window), false);
    assert.equal(await s.sessions.revoke(r.id, alice, 'user_revoked', window), true);
    assert.equal(await s.sessions.revoke(r.id, alice, 'user_revoked', window), false, 'revoking twice changes nothing');
    const after = await s.sessions.get(r.id);
    assert.equal(after?.revokedAtMs, T0 + 100);
    assert.equal(after?.revokeReason, 'user_revoked');
  });

  test('revokeAll: every active session of the user, optionally but one; others untouched', async (t) => {
    const s = await open(t);
    if (!s) return;
    const alice = await seedUser(s.users);
    const bob = await seedUser(s.users);
    const mine = [session(alice), session(alice), session(alice)];
    const theirs = session(bob);
    for (const r of [...mine, theirs]) await s.sessions.create(r);
    const window = activeWindow(policy, T0 + 100);
    const kept = await s.sessions.revokeAll(alice, 'user_revoked_all', window, { exceptSessionId: mine[0]!.id });
    assert.deepEqual(kept.sort(), [mine[1]!.id, mine[2]!.id].sort());
    assert.equal(await s.sessions.countActive(alice, window), 1);
    assert.deepEqual(await s.sessions.revokeAll(alice, 'user_revoked_all', window), [mine[0]!.id]);
    assert.deepEqual(await s.sessions.revokeAll(alice, 'user_revoked_all', window), []);
    assert.equal(await s.sessions.countActive(bob, window), 1);
  });

  test('the event feed: every event once, from a position, in pages, filtered, resumable', async (t) => {
    const s = await open(t);
    if (!s) return;
    const userId = await seedUser(s.users);
    const before = session(userId);
    await s.sessions.create(before);
    const head = await s.events.feedHead();
    assert.deepEqual((await s.events.feedAfter(head, { limit: 10 })).events, [], 'a new reader starts after what exists');
    const rs = [session(userId), session(userId), session(userId)];
    for (const r of rs) await s.sessions.create(r);
    await s.sessions.revoke(rs[0]!.id, userId, 'user_revoked', activeWindow(policy, T0 + 10));
    await s.sessions.revoke(rs[1]!.id, userId, 'user_revoked', activeWindow(policy, T0 + 20));

    const all = await s.events.feedAfter(head, { limit: 100 });
    assert.deepEqual(all.events.map((e) => [e.type, e.sessionId]), [
      ['session.created', rs[0]!.id], ['session.created', rs[1]!.id], ['session.created', rs[2]!.id],
      ['session.revoked', rs[0]!.id], ['session.revoked', rs[1]!.id],
    ]);
    assert.equal(all.more, false);
    assert.deepEqual((await s.events.feedAfter(all.position, { limit: 100 })).events, [], 'nothing twice');
    // Pages of 2, resumed from each page's position, give the same events.
    const paged: string[] = [];
    let position = head;
    for (let page = await s.events.feedAfter(position, { limit: 2 }); ; page = await s.events.feedAfter(position, { limit: 2 })) {
      paged.push(...page.events.map((e) => `${e.type} ${e.sessionId}`));
      position = page.position;
      if (!page.more) break;
    }
    assert.deepEqual(paged, all.events.map((e) => `${e.type} ${e.sessionId}`));
    // Resuming from an event's own position continues right after it (an SSE Last-Event-ID).
    assert.deepEqual((await s.events.feedAfter(all.events[2]!.position, { limit: 100 })).events.map((e) => e.sessionId), [rs[0]!.id, rs[1]!.id]);
    const revocations = await s.events.feedAfter(head, { limit: 100, types: ['session.revoked'] });
    assert.deepEqual(revocations.events.map((e) => e.sessionId), [rs[0]!.id, rs[1]!.id]);
    await s.sessions.revoke(rs[2]!.id, userId, 'user_revoked', activeWindow(policy, T0 + 30));
    assert.deepEqual((await s.events.feedAfter(revocations.position, { limit: 100, types: ['session.revoked'] })).events.map((e) => e.sessionId), [rs[2]!.id]);
    for (const bad of ['', 'x', '1/2', '../../etc', `${'9'.repeat(30)}`, "1:1:/'; drop table users;--/0"]) {
      await assert.rejects(s.events.feedAfter(bad, { limit: 1 }), InvalidFeedPositionError, `refused: ${bad}`);
    }
  });

  test('the event feed returns an event whose transaction commits after later ones, once (no look-back window)', async (t) => {
    const s = await open(t);
    if (!s) return;
    const event = (sessionId: string, occurredAtMs: number) => ({ type: 'session.revoked' as const, sessionId, userId: 'u', reason: 'user_revoked', occurredAtMs });
    const start = await s.events.feedHead();
    if (s.dialect === 'sqlite') {
      // One writer at a time: a transaction's events cannot commit behind a later one's. What is
      // left to check is that no timestamp matters: an event stamped long ago is still read.
      await appendEvents(s.db, [event('stamped-an-hour-ago', T0 - 3_600_000)]);
      assert.deepEqual((await s.events.feedAfter(start, { limit: 10 })).events.map((e) => e.sessionId), ['stamped-an-hour-ago']);
      return;
    }
    let commit!: () => void;
    const held = new Promise<void>((resolve) => (commit = resolve));
    let inserted!: () => void;
    const insertedLow = new Promise<void>((resolve) => (inserted = resolve));
    const slow = s.db.transaction().execute(async (trx) => {
      await appendEvents(trx, [event('late', T0 - 3_600_000)]); // the lower id and an old stamp, committed last
      inserted();
      await held;
    });
    let page;
    try {
      await insertedLow;
      await appendEvents(s.db, [event('early', T0)]);
      page = await s.events.feedAfter(start, { limit: 10 });
      assert.deepEqual(page.events.map((e) => e.sessionId), ['early'], 'the uncommitted one is not visible yet');
    } finally {
      commit();
      await slow;
    }
    const after = await s.events.feedAfter(page.position, { limit: 10 });
    assert.deepEqual(after.events.map((e) => e.sessionId), ['late'], 'read once it committed, although its id is lower and its stamp an hour old');
    assert.deepEqual((await s.events.feedAfter(after.position, { limit: 10 })).events, []);
    assert.deepEqual((await s.events.feedAfter(start, { limit: 10 })).events.map((e) => e.sessionId), ['late', 'early'], 'one read of both: id order');
  });

  test('every change writes its events in the same transaction (audit log / outbox)', async (t) => {
    const s = await open(t);
    if (!s) return;
    const events = s.events;
    const userId = await seedUser(s.users);
    const [a, b, c] = [session(userId), session(userId), session(userId, { lastActiveAtMs: T0 - policy.idleTimeoutMs })];
    for (const r of [a, b, c]) await s.sessions.create(r);
    await s.sessions.rotateRefresh(a.id, 0, T0 + 1);
    await s.sessions.rotateRefresh(a.id, 0, T0 + 2); // lost race: no event
    await s.sessions.revoke(a.id, userId, 'refresh_token_reused', activeWindow(policy, T0 + 3));
    await s.sessions.revoke(a.id, userId, 'user_revoked', activeWindow(policy, T0 + 4)); // no-op: no event
    await s.sessions.revokeAll(userId, 'user_revoked_all', activeWindow(policy, T0 + 5));
    await s.sessions.markExpired(activeWindow(policy, T0 + 6), 10);
    const all = await events.list({}, 100);
    assert.deepEqual(
      all.map((e) => [e.type, e.sessionId, e.reason]),
      [
        ['session.created', a.id, null],
        ['session.created', b.id, null],
        ['session.created', c.id, null],
        ['session.refreshed', a.id, null],
        ['refresh_token.reused', a.id, null],
        ['session.revoked', a.id, 'refresh_token_reused'],
        ['session.revoked', b.id, 'user_revoked_all'],
        ['session.expired', c.id, 'idle_timeout'],
      ],
    );
    assert.deepEqual(all[0]!.data, { ipAddress: '203.0.113.9', userAgent: 'test-agent', authMethod: 'password' });
    assert.deepEqual(all[3]!.data, { generation: 1 });
    assert.ok(all.every((e, i) => i === 0 || e.id > all[i - 1]!.id), 'ids increase');
    assert.deepEqual((await events.list({ sessionId: a.id, type: 'session.revoked' }, 10)).map((e) => e.reason), ['refresh_token_reused']);
    assert.equal((await events.list({ afterId: all[5]!.id }, 10)).length, 2);
    assert.equal(await events.lastId(), all[7]!.id);
  });

  test('deleting a user removes their sessions (foreign key cascade)', async (t) => {
    const s = await open(t);
    if (!s) return;
    const userId = await seedUser(s.users);
    const r = session(userId);
    await s.sessions.create(r);
    await s.db.deleteFrom('users').where('id', '=', userId).execute();
    assert.equal(await s.sessions.get(r.id), undefined);
  });
}
