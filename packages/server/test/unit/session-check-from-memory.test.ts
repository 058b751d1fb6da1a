import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { migrateToLatest, openDatabase } from '../../src/database/database.ts';
import { createKyselySessionStore } from '../../src/sessions/kysely-session-store.ts';
import { SessionCache } from '../../src/sessions/session-cache.ts';
import { createSessionService } from '../../src/sessions/session-service.ts';
import { createRefreshTokens } from '../../src/tokens/refresh-tokens.ts';
import { TestClock } from '../helpers/clock.ts';

/**
 * The fast path's session check (`authenticateCached`, `validateCached`) against the full one
 * (`authenticate`, `validate`), state by state, on a real store and cache with an injected clock:
 * from memory it may say yes only where the full check says yes, and must defer (false /
 * undefined) wherever the full check would refuse or would have to read the database.
 */
async function setup() {
  const clock = new TestClock();
  const database = openDatabase({ sqliteFile: ':memory:' });
  await migrateToLatest(database.db);
  const store = createKyselySessionStore(database.db, { dialect: 'sqlite' });
  const cache = new SessionCache({ maxEntries: 100, maxStalenessMs: 2500 });
  const sessions = createSessionService(
    { store, cache, refreshTokens: createRefreshTokens(crypto.randomBytes(32).toString('base64url')), clock },
    {
      policy: { idleTimeoutMs: 60 * 60_000, absoluteLifetimeMs: 24 * 60 * 60_000 },
      lastActiveWriteIntervalMs: 60_000,
      refreshReuseGraceMs: 10_000,
      sessionLimit: { maxActive: 0, mode: 'refuse' },
    },
  );
  const userId = crypto.randomUUID();
  await database.db.insertInto('users').values({ id: userId, email: `${userId}@example.com`, name: null, password_hash: 'x', created_at: clock.now() }).execute();
  const synced = () => cache.markSynced(clock.now());
  synced();
  const { session } = await sessions.create(userId, { ipAddress: null, userAgent: null }, 'password');
  const claims = { userId, sessionId: session.id, expiresAtMs: clock.now() + 15 * 60_000 };
  return { clock, database, sessions, cache, synced, userId, session, claims };
}

async function full(sessions: Awaited<ReturnType<typeof setup>>['sessions'], claims: { userId: string; sessionId: string; expiresAtMs: number }) {
  try {
    await sessions.authenticate(claims);
    return true;
  } catch {
    return false;
  }
}

describe('the session check from memory (fast path) never goes beyond the full check', () => {
  test('live and cached: both say yes, and validate agrees', async (t) => {
    const { sessions, claims, database } = await setup();
    t.after(() => database.close());
    assert.equal(sessions.authenticateCached(claims), true);
    assert.equal(await full(sessions, claims), true);
    assert.deepEqual(sessions.validateCached(claims.userId, claims.sessionId), await sessions.validate(claims.userId, claims.sessionId));
  });

  test('revoked: memory defers, the full check refuses; validate says not valid on both', async (t) => {
    const { sessions, claims, database } = await setup();
    t.after(() => database.close());
    await sessions.revoke(claims.userId, claims.sessionId, 'user_revoked');
    assert.equal(sessions.authenticateCached(claims), false);
    assert.equal(await full(sessions, claims), false);
    assert.deepEqual(sessions.validateCached(claims.userId, claims.sessionId), { valid: false, expiresAtMs: null });
    assert.deepEqual(await sessions.validate(claims.userId, claims.sessionId), { valid: false, expiresAtMs: null });
  });

  test("another user's token for this session: memory defers, the full check refuses", async (t) => {
    const { sessions, claims, database } = await setup();
    t.after(() => database.close());
    const foreign = { ...claims, userId: crypto.randomUUID() };
    assert.equal(sessions.authenticateCached(foreign), false);
    assert.equal(await full(sessions, foreign), false);
    assert.deepEqual(sessions.validateCached(foreign.userId, claims.sessionId), { valid: false, expiresAtMs: null });
  });

  test('idle past the timeout: memory defers (the entry may be stale), the full check refuses after reading', async (t) => {
    const { sessions, claims, clock, synced, database } = await setup();
    t.after(() => database.close());
    clock.advance(60 * 60_000 + 1);
    synced();
    assert.equal(sessions.authenticateCached(claims), false);
    assert.equal(sessions.validateCached(claims.userId, claims.sessionId), undefined, 'only the database can tell');
    assert.equal(await full(sessions, claims), false);
  });

  test('past the absolute lifetime: memory defers, the full check refuses', async (t) => {
    const { sessions, claims, clock, synced, database } = await setup();
    t.after(() => database.close());
    for (let i = 0; i < 25; i++) {
      clock.advance(59 * 60_000); // active enough never to go idle
      synced();
      await full(sessions, claims);
    }
    assert.equal(sessions.authenticateCached(claims), false);
    assert.equal(await full(sessions, claims), false);
  });

  test('cache not trusted (the feed has not synced within its bound): memory defers even for a live session', async (t) => {
    const { sessions, claims, clock, database } = await setup();
    t.after(() => database.close());
    clock.advance(2501);
    assert.equal(sessions.authenticateCached(claims), false);
    assert.equal(sessions.validateCached(claims.userId, claims.sessionId), undefined);
    assert.equal(await full(sessions, claims), true, 'the full check reads the database and accepts');
  });

  test('not in the cache: memory defers', async (t) => {
    const { sessions, claims, cache, database } = await setup();
    t.after(() => database.close());
    cache.clear();
    assert.equal(sessions.authenticateCached(claims), false);
    assert.equal(sessions.validateCached(claims.userId, claims.sessionId), undefined);
    assert.equal(await full(sessions, claims), true);
    assert.equal(sessions.authenticateCached(claims), true, 'the full check filled the cache');
  });
});
