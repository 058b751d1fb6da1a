// test-tier: full (Chromium)
// Issue 17 in a real headless Chromium: the devices page binds its session to a non-extractable
// WebCrypto key kept in IndexedDB. The bound session survives a reload; its refresh cookie, copied
// out of the browser and replayed from Node without the key, is refused and recorded.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { TestClock } from '../../server/test/helpers/clock.ts';
import { ensureBuilt } from '../../../scripts/build.mjs';
import { desktopUserAgent, launchChromium, openDevice } from './helpers/browser.ts';

const password = 'correct horse battery staple';

before(async () => {
  await ensureBuilt(['web'], { ifStale: true, quiet: true });
});

// Longer than the 60 s default: Chromium, a device key generated in the page, and two browser contexts.
test('the page binds its session to a device key; the copied refresh cookie is useless without it', { timeout: 120_000 }, async (t) => {
  // Proofs carry the browser's real time, so the service's clock starts at it.
  const env = await startApp(t, 'sqlite', { clock: new TestClock(Date.now()) });
  assert.ok(env);
  const browser = await launchChromium(t);
  if (!browser) return;
  const { page, context, errors } = await openDevice(browser, { userAgent: desktopUserAgent(browser), viewport: { width: 1024, height: 760 } });
  const devicesShown = async () => {
    await page.getByRole('heading', { name: 'Your devices' }).waitFor();
    await page.waitForFunction(() => document.querySelector('#device-list > li') !== null && !document.querySelector('#device-list[aria-busy]'));
  };

  await page.goto(env.url + '/');
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.locator('#sign-up-email').fill('bound@example.com');
  await page.locator('#sign-up-password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await devicesShown();
  const current = page.locator('#device-list > li.current');
  assert.match((await current.textContent()) ?? '', /Key-bound/);
  const sessionId = await current.getAttribute('data-session-id');
  assert.ok(sessionId);
  // The key in IndexedDB cannot be read out: WebCrypto says so.
  const extractable = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('sessiond');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('IndexedDB open failed'));
    });
    const pair = await new Promise<CryptoKeyPair>((resolve, reject) => {
      const get = db.transaction('device-keys').objectStore('device-keys').get('dpop');
      get.onsuccess = () => resolve(get.result as CryptoKeyPair);
      get.onerror = () => reject(get.error ?? new Error('IndexedDB get failed'));
    });
    db.close();
    return { extractable: pair.privateKey.extractable, algorithm: pair.privateKey.algorithm.name };
  });
  assert.deepEqual(extractable, { extractable: false, algorithm: 'ECDSA' });

  // A reload: the page restores the same session from the cookie, proving the stored key.
  await page.reload();
  await devicesShown();
  assert.equal(await page.locator('#device-list > li.current').getAttribute('data-session-id'), sessionId);

  // The thief: the HttpOnly cookie copied out of the browser profile, replayed from Node.
  const cookie = (await context.cookies(`${env.url}/auth/refresh`)).find((c) => c.name === 'sessiond_refresh');
  assert.ok(cookie, 'the refresh cookie');
  const stolen = await fetch(`${env.url}/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-refresh-transport': 'cookie', cookie: `sessiond_refresh=${cookie.value}` },
    body: '{}',
  });
  assert.equal(stolen.status, 401);
  assert.equal(((await stolen.json()) as { type: string }).type, 'urn:sessiond:problem:invalid-refresh-token');
  const events = await env.app.sessiond.events.list({ sessionId, type: 'refresh_token.unbound_use' }, 10);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.data.proof, 'missing');

  // The real device is unaffected: another reload restores the session again.
  await page.reload();
  await devicesShown();
  assert.equal(await page.locator('#device-list > li.current').getAttribute('data-session-id'), sessionId);
  assert.deepEqual(errors, []);
});
