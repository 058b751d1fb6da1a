import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { addressKey } from '../../src/abuse/client-address.ts';
import { backoffWaitMs, MemoryCounterStore, type BackoffPolicy } from '../../src/abuse/counter-store.ts';
import { createDeviceCookies } from '../../src/abuse/device-cookies.ts';
import { isCanonicalBase64url } from '../../src/tokens/base64url.ts';
import { TestClock } from '../helpers/clock.ts';

describe('client address keys', () => {
  test('IPv4 and its IPv4-mapped IPv6 spellings are one key', () => {
    for (const a of ['198.51.100.7', '::ffff:198.51.100.7', '::FFFF:C633:6407', '0:0:0:0:0:ffff:198.51.100.7']) assert.equal(addressKey(a, 64), '198.51.100.7', a);
  });
  test('IPv6 is cut to the prefix and written canonically', () => {
    const key = addressKey('2001:db8:1:2::1', 64);
    assert.equal(key, '2001:db8:1:2::/64');
    for (const a of ['2001:DB8:1:2:FFFF:FFFF:FFFF:FFFF', '2001:0db8:0001:0002:0000:0000:0000:0009', '2001:db8:1:2::5%eth0']) assert.equal(addressKey(a, 64), key, a);
    assert.notEqual(addressKey('2001:db8:1:3::1', 64), key);
    assert.equal(addressKey('2001:db8:1:2::1', 128), '2001:db8:1:2::1/128');
    assert.equal(addressKey('2001:db8:1:2::1', 48), '2001:db8:1::/48');
    assert.equal(addressKey('2001:db8:1:2::1', 1), '::/1');
  });
  test('not an address: its own key; none: "unknown"', () => {
    assert.equal(addressKey('Not-An-Address', 64), 'not-an-address');
    assert.equal(addressKey(null, 64), 'unknown');
  });
});

describe('canonical base64url', () => {
  test('exactly one spelling of any byte string is canonical', () => {
    for (let length = 0; length < 40; length++) {
      const canonical = crypto.randomBytes(length).toString('base64url');
      assert.ok(isCanonicalBase64url(canonical), canonical);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      // every other last character that decodes to the same bytes is refused
      for (const c of alphabet) {
        const other = canonical.slice(0, -1) + c;
        if (other === canonical || canonical.length === 0) continue;
        const sameBytes = Buffer.from(other, 'base64url').equals(Buffer.from(canonical, 'base64url'));
        assert.equal(isCanonicalBase64url(other), !sameBytes && Buffer.from(other, 'base64url').toString('base64url') === other, `${length}: ${other}`);
      }
    }
    assert.equal(isCanonicalBase64url('abcde'), false, 'a length of 4n+1 encodes no byte string');
    assert.equal(isCanonicalBase64url('ab=='), false, 'padding is not base64url as we issue it');
  });
});

describe('sign-in back-off', () => {
  const policy: BackoffPolicy = { freeAttempts: 3, maxDelayMs: 8000, windowMs: 60_000 };
  test('the rule: free attempts, then 1 s doubling, capped', () => {
    assert.deepEqual([0, 1, 2].map((n) => backoffWaitMs(n, 0, 0, policy)), [0, 0, 0]);
    assert.deepEqual([3, 4, 5, 6, 7, 50, 5000].map((n) => backoffWaitMs(n, 0, 0, policy)), [1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    assert.equal(backoffWaitMs(4, 0, 1500, policy), 500);
    assert.equal(backoffWaitMs(4, 0, 2500, policy), 0);
  });
  test('memory: concurrent attempts cannot overshoot; refused ones are not counted; the window forgets', async () => {
    const clock = new TestClock();
    const store = new MemoryCounterStore(() => clock.now());
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => store.attempt('k', policy)));
    assert.equal(verdicts.filter((v) => v.allowed).length, 3);
    assert.deepEqual(verdicts[3], { allowed: false, retryAfterMs: 1000 });
    clock.advance(1000);
    assert.deepEqual(await store.attempt('k', policy), { allowed: true });
    assert.deepEqual(await store.attempt('k', policy), { allowed: false, retryAfterMs: 2000 }, 'the 17 refusals did not lengthen the wait');
    clock.advance(60_000);
    assert.deepEqual(await store.attempt('k', policy), { allowed: true }, 'forgotten a window after the last attempt');
  });
});

describe('device cookies', () => {
  const key = crypto.randomBytes(32).toString('base64url');
  const devices = createDeviceCookies(key);
  test('recognised for its account only; forged, foreign-key and non-canonical ones are not', () => {
    const cookie = devices.issue(undefined, 'ada@example.com');
    const id = devices.recognise(cookie, 'ada@example.com');
    assert.ok(id);
    assert.equal(devices.recognise(cookie, 'bob@example.com'), undefined, 'bound to the account');
    assert.equal(createDeviceCookies(crypto.randomBytes(32).toString('base64url')).recognise(cookie, 'ada@example.com'), undefined, 'bound to the key');
    const [deviceId, mac] = cookie.split('.');
    assert.equal(devices.recognise(`${deviceId}.${'A'.repeat(43)}`, 'ada@example.com'), undefined, 'forged MAC');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = mac!.slice(0, -1) + alphabet[alphabet.indexOf(mac!.at(-1)!) ^ 1];
    assert.equal(devices.recognise(`${deviceId}.${respelled}`, 'ada@example.com'), undefined, 'another spelling of the MAC');
    assert.equal(devices.recognise('garbage', 'ada@example.com'), undefined);
    assert.equal(devices.recognise(undefined, 'ada@example.com'), undefined);
  });
  test('one cookie remembers several accounts; a sign-in replaces only its own entry', () => {
    let cookie = devices.issue(undefined, 'ada@example.com');
    const ada = devices.recognise(cookie, 'ada@example.com');
    cookie = devices.issue(cookie, 'bob@example.com');
    assert.equal(devices.recognise(cookie, 'ada@example.com'), ada, "Bob's sign-in kept Ada's entry");
    assert.ok(devices.recognise(cookie, 'bob@example.com'));
    cookie = devices.issue(cookie, 'ada@example.com');
    assert.notEqual(devices.recognise(cookie, 'ada@example.com'), ada, 'a fresh device id at each sign-in');
    assert.equal(cookie.split('~').length, 2);
    for (let i = 0; i < 10; i++) cookie = devices.issue(cookie, `u${i}@example.com`);
    assert.equal(cookie.split('~').length, 5, 'bounded');
  });
});
