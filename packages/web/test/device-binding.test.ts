// test-tier: full (Chromium)
// Issue 17 in a real headless Chromium: the devices page binds its session to a non-extractable
// WebCrypto key kept in IndexedDB. The bound session survives a reload; its refresh cookie, copied
// out of the browser and replayed from Node without the key, is refused and recorded.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { TestClock } from '../../server/test/helpers/clock.ts';
import { backendNames } from '../../server/test/helpers/backends.ts';
import { DeviceKey } from '../../server/test/helpers/dpop.ts';
import { ensureBuilt } from '../../../scripts/build.mjs';
import { desktopUserAgent, launchChromium, openDevice } from './helpers/browser.ts';

const password = 'correct horse battery staple';

before(async () => {
  await ensureBuilt(['web'], { ifStale: true, quiet: true });
});

// On each backend (the tests must pass on both): the refusal and its record go through the store.
for (const backend of backendNames) {
  // Longer than the 60 s default: Chromium, a device key generated in the page, and two browser contexts.
  test(`the page binds its session to a device key; the copied refresh cookie is useless without it (${backend})`, { timeout: 120_000 }, async (t) => {
    // Proofs carry the browser's real time, so the service's clock starts at it.
    const env = await startApp(t, backend, { clock: new TestClock(Date.now()) });
    if (!env) return;
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

    assert.equal(await page.locator('#device-list > li.current .device-warning').count(), 0, 'no warning before any attempt');

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

    // The open page hears of it on its event stream (session.unbound_use): the warning appears on
    // this device's row without a reload.
    await page.locator('#device-list > li.current').getByRole('note').waitFor({ timeout: 20_000 });

    // The real device is unaffected: another reload restores the session again, and its row still
    // says that someone tried its refresh token without the key, and when.
    await page.reload();
    await devicesShown();
    const restored = page.locator('#device-list > li.current');
    assert.equal(await restored.getAttribute('data-session-id'), sessionId);
    const warning = restored.getByRole('note');
    assert.match((await warning.textContent()) ?? '', /^Someone tried to use this session's refresh token without its key; the key kept them out\..*Latest attempt: just now\.$/);
    assert.equal(await warning.locator('time').getAttribute('datetime'), new Date(events[0]!.occurredAtMs).toISOString());
    assert.deepEqual(errors, []);
  });
}

// Longer than the 60 s default: Chromium and a page server of its own.
test('a page on another origin binds a session cross-origin: DPoP is an allowed header, DPoP-Nonce, WWW-Authenticate and Date are readable', { timeout: 120_000 }, async (t) => {
  // The application's own page, on another origin (another port) than the service.
  const pageServer = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>'));
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => pageServer.close(() => resolve())));
  const pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  const env = await startApp(t, 'sqlite', {
    clock: new TestClock(Date.now()),
    config: { corsOrigins: [pageOrigin], dpop: { required: false, requireNonce: true, iatWindowSeconds: 60 } },
  });
  assert.ok(env);
  const browser = await launchChromium(t);
  if (!browser) return;
  const { page, errors } = await openDevice(browser, { userAgent: desktopUserAgent(browser), viewport: { width: 800, height: 600 } });
  await page.goto(pageOrigin + '/');
  // The proofs are made here (the page only sends them): what is tested is what the browser lets through.
  const key = await DeviceKey.generate(() => env.clock.now());
  const send = (request: { url: string; method: string; headers: Record<string, string>; body?: string }) =>
    page.evaluate(async ({ url, method, headers, body }) => {
      const response = await fetch(url, { method, headers, body });
      const h = response.headers;
      return { status: response.status, body: await response.json(), nonce: h.get('dpop-nonce'), challenge: h.get('www-authenticate'), date: h.get('date') };
    }, request);
  const register = { url: `${env.url}/auth/register`, method: 'POST', body: JSON.stringify({ email: 'cors@example.com', password }) };
  const first = await send({ ...register, headers: { 'content-type': 'application/json', dpop: await key.proof({ htm: 'POST', htu: register.url }) } });
  assert.equal(first.status, 400);
  assert.equal(first.body.type, 'urn:sessiond:problem:use-dpop-nonce');
  assert.ok(first.nonce, 'DPoP-Nonce is exposed to the page');
  assert.ok(first.date, 'Date is exposed (the SDK corrects a skewed clock from it)');
  const signedUp = await send({ ...register, headers: { 'content-type': 'application/json', dpop: await key.proof({ htm: 'POST', htu: register.url, nonce: first.nonce }) } });
  assert.equal(signedUp.status, 201, JSON.stringify(signedUp.body));
  assert.equal(signedUp.body.tokenType, 'DPoP');
  const me = `${env.url}/auth/me`;
  const refused = await send({ url: me, method: 'GET', headers: { authorization: `DPoP ${signedUp.body.accessToken}`, dpop: await key.proof({ htm: 'GET', htu: me, nonce: signedUp.nonce!, accessToken: 'another token' }) } });
  assert.equal(refused.status, 401);
  assert.match(refused.challenge ?? '', /^DPoP error="invalid_dpop_proof"/, 'WWW-Authenticate is exposed to the page');
  const ok = await send({ url: me, method: 'GET', headers: { authorization: `DPoP ${signedUp.body.accessToken}`, dpop: await key.proof({ htm: 'GET', htu: me, nonce: signedUp.nonce!, accessToken: signedUp.body.accessToken }) } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(errors, []);
});
