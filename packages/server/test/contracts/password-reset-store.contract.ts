import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test, type TestContext } from 'node:test';
import type { PasswordResetStore } from '../../src/password-reset/password-reset-store.ts';
import type { UserStore } from '../../src/users/user-store.ts';

export type PasswordResetStoreFactory = (t: TestContext) => Promise<{ resets: PasswordResetStore; users: UserStore } | undefined>;

const T0 = Date.UTC(2026, 10, 29, 6);
const LEASE = 30_000;

async function newUser(users: UserStore, passwordHash = 'h0'): Promise<string> {
  const id = crypto.randomUUID();
  assert.equal(await users.create({ id, email: `${id}@example.com`, name: null, passwordHash, createdAtMs: T0, externalId: null }), true);
  return id;
}

/** What every backend's password-reset store must answer: the request outbox and the tokens. */
export function passwordResetStoreContract(open: PasswordResetStoreFactory) {
  test('reset requests: leased to one owner at a time, oldest first; completed or retried only by the owner', async (t) => {
    const s = await open(t);
    if (!s) return;
    for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) await s.resets.enqueue(email, T0);

    const first = await s.resets.claimDue('A', T0, LEASE, 2);
    assert.deepEqual(first.map((r) => [r.email, r.requestedAtMs, r.attempts]), [['a@example.com', T0, 0], ['b@example.com', T0, 0]], 'oldest first, up to the limit');
    const second = await s.resets.claimDue('B', T0 + 1, LEASE, 10);
    assert.deepEqual(second.map((r) => r.email), ['c@example.com'], 'a leased request is not claimed again');

    await s.resets.complete(first[0]!.id, 'B', T0 + 2); // not B's: no effect
    await s.resets.recordFailure(first[1]!.id, 'A', { attempts: 1, nextAttemptAtMs: T0 + 60_000, error: 'smtp down' });
    assert.deepEqual(await s.resets.claimDue('B', T0 + 3, LEASE, 10), [], 'held by A, or not due yet');

    // A's lease runs out (B's, taken 1 ms later, not yet): the request A did not complete is anyone's again.
    assert.deepEqual((await s.resets.claimDue('B', T0 + LEASE, LEASE, 10)).map((r) => r.email), ['a@example.com']);
    await s.resets.complete(first[0]!.id, 'B', T0 + LEASE + 2);
    await s.resets.complete(second[0]!.id, 'B', T0 + LEASE + 2);
    const retried = await s.resets.claimDue('C', T0 + 60_000, LEASE, 10);
    assert.deepEqual(retried.map((r) => [r.email, r.attempts]), [['b@example.com', 1]], 'due again at its next attempt, with its count');
    await s.resets.complete(retried[0]!.id, 'C', T0 + 60_001, 'no such account');
    assert.deepEqual(await s.resets.claimDue('D', T0 + 10 * LEASE, LEASE, 10), [], 'done requests are never claimed');

    assert.equal(await s.resets.purge(T0 + 60_002, T0 + 60_002), 3, 'done requests purged');
    assert.equal(await s.resets.purge(T0 + 60_002, T0 + 60_002), 0);
  });

  test('reset tokens: one live token per user, found until expiry, used once; using it sets the password', async (t) => {
    const s = await open(t);
    if (!s) return;
    const ann = await newUser(s.users);
    await s.resets.enqueue('ann@example.com', T0);
    const [request] = await s.resets.claimDue('A', T0, LEASE, 1);

    await s.resets.saveToken({ userId: ann, tokenHash: 'old', createdAtMs: T0, expiresAtMs: T0 + 60_000 });
    await s.resets.saveToken({ userId: ann, tokenHash: 'new', createdAtMs: T0 + 1, expiresAtMs: T0 + 60_000 }, { complete: { id: request!.id, owner: 'A', nowMs: T0 + 1 } });
    assert.equal(await s.resets.findUserByToken('old', T0 + 2), undefined, 'a new token voids the earlier one');
    assert.equal(await s.resets.findUserByToken('new', T0 + 2), ann);
    assert.equal(await s.resets.findUserByToken('new', T0 + 60_000), undefined, 'expired');
    assert.deepEqual(await s.resets.claimDue('B', T0 + 10 * LEASE, LEASE, 10), [], 'the request was completed with the token');

    // Two confirmations at once: exactly one uses the token.
    const results = await Promise.all([s.resets.consume('new', T0 + 3, 'h1'), s.resets.consume('new', T0 + 3, 'h2')]);
    assert.deepEqual(results.filter((r) => r !== undefined), [ann], 'single use');
    assert.equal(await s.resets.findUserByToken('new', T0 + 4), undefined);
    const hash = (await s.users.findByEmail(`${ann}@example.com`))?.passwordHash;
    assert.ok(hash === 'h1' || hash === 'h2', 'the winner set the password');
    assert.equal(await s.resets.consume('new', T0 + 5, 'h3'), undefined, 'used up');

    const bob = await newUser(s.users);
    await s.resets.saveToken({ userId: bob, tokenHash: 'bob', createdAtMs: T0, expiresAtMs: T0 + 10 });
    assert.equal(await s.resets.consume('bob', T0 + 10, 'h4'), undefined, 'an expired token changes nothing');
    assert.equal((await s.users.findByEmail(`${bob}@example.com`))?.passwordHash, 'h0');
    assert.equal(await s.resets.purge(0, T0 + 10), 1, 'expired tokens purged');
  });
}
