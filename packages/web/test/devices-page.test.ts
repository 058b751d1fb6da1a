// test-tier: full (Chromium)
// The devices page in a real headless Chromium, served by the real service on a fresh SQLite
// database: two isolated browser contexts are two devices of one person.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { startApp, type TestApp } from '../../server/test/helpers/app.ts';
import { TestClock } from '../../server/test/helpers/clock.ts';
import { ensureBuilt } from '../../../scripts/build.mjs';
import { desktopUserAgent, iPhoneUserAgent, launchChromium, openDevice, resultsDir } from './helpers/browser.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const password = 'correct horse battery staple';
const desktopViewport = { width: 1024, height: 760 };
const phoneViewport = { width: 390, height: 844 };

before(async () => {
  // The service serves packages/web/dist: build it when the sources changed (fast otherwise).
  await ensureBuilt(['web'], { ifStale: true, quiet: true });
  fs.mkdirSync(resultsDir, { recursive: true });
});

async function start(t: import('node:test').TestContext, clock = new TestClock(Date.now())): Promise<TestApp> {
  const env = await startApp(t, 'sqlite', { clock });
  assert.ok(env);
  return env;
}

// ---- What a person does on the page ----------------------------------------------------------

async function open(page: Page, env: TestApp): Promise<void> {
  await page.goto(env.url + '/');
  await page.locator('#auth-view:not([hidden]), #devices-view:not([hidden])').waitFor();
}

async function signUp(page: Page, env: TestApp, email: string, name?: string): Promise<void> {
  await open(page, env);
  await page.getByRole('button', { name: 'Create an account' }).click();
  if (name) await page.locator('#sign-up-name').fill(name);
  await page.locator('#sign-up-email').fill(email);
  await page.locator('#sign-up-password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await devicesShown(page);
}

async function signIn(page: Page, env: TestApp, email: string, withPassword = password): Promise<void> {
  if (!(await page.locator('#sign-in-form').isVisible())) await open(page, env);
  await page.locator('#sign-in-email').fill(email);
  await page.locator('#sign-in-password').fill(withPassword);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function devicesShown(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'Your devices' }).waitFor();
  await page.waitForFunction(() => document.querySelector('#device-list > li') !== null && !document.querySelector('#device-list[aria-busy]'));
}

async function waitForRows(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('#device-list > li').length === n && !document.querySelector('#device-list[aria-busy]'), count);
}

/** The sign-in form, with the notice the page shows above it. */
async function signInShown(page: Page): Promise<string> {
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  return (await page.locator('#auth-notice').textContent()) ?? '';
}

const rows = (page: Page) => page.locator('#device-list > li');
const row = (page: Page, text: string) => rows(page).filter({ hasText: text });
const status = (page: Page) => page.locator('#devices-status');

/** Confirms the open dialog with the given button, after checking that focus went into it. */
async function confirm(page: Page, button: string): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm-cancel', 'focus starts on the harmless choice');
  await dialog.getByRole('button', { name: button }).click();
  await dialog.waitFor({ state: 'hidden' });
}

function countRefreshes(page: Page): { readonly count: number } {
  const seen = { count: 0 };
  page.on('response', (response) => {
    const request = response.request();
    if (request.method() !== 'POST' || new URL(request.url()).pathname !== '/auth/refresh') return;
    // The page's sessions are key-bound (DPoP): when these tests jump the service's clock, the first
    // proof's iat is refused (a token endpoint's 400 invalid_dpop_proof, RFC 9449 §5) and the SDK
    // resends the same refresh once with its clock corrected. That resend is not a second refresh.
    if (response.status() === 400) return;
    seen.count++;
  });
  return seen;
}

/** The refresh cookie of the service's host (cookies() of a URL would leave it out: its path is /auth/refresh). */
async function refreshCookie(context: BrowserContext, env: TestApp) {
  const host = new URL(env.url).hostname;
  return (await context.cookies()).find((c) => c.name === 'sessiond_refresh' && c.domain === host);
}

// ---- Scenarios -------------------------------------------------------------------------------

describe('the devices page in Chromium', () => {
  test('two devices: each sees both sessions and its own badge; one signs the other out, which lands on sign-in with the reason', async (t) => {
    const browser = await launchChromium(t);
    if (!browser) return;
    // The service's clock starts two days ago, so the phone's session has a history to show.
    const clock = new TestClock(Date.now() - 2 * DAY);
    const env = await start(t, clock);
    const laptop = await openDevice(browser, { userAgent: desktopUserAgent(browser), viewport: desktopViewport });
    const phone = await openDevice(browser, { userAgent: iPhoneUserAgent, viewport: phoneViewport, isMobile: true });

    await signUp(phone.page, env, 'ada@example.com', 'Ada Lovelace');
    assert.equal(await rows(phone.page).count(), 1);
    assert.equal(await phone.page.locator('#revoke-others').isDisabled(), true, 'no other device to sign out');

    // 25 minutes ago, the phone was last used. Its access token is long expired by the service's
    // clock (not by the page's): the call is refused, refreshed once, and retried, unnoticed.
    clock.advance(2 * DAY - 25 * MINUTE);
    const phoneRefreshes = countRefreshes(phone.page);
    await phone.page.getByRole('button', { name: 'Refresh list' }).click();
    await phone.page.waitForFunction(() => !document.querySelector('#device-list[aria-busy]'));
    await waitForRows(phone.page, 1);
    assert.equal(phoneRefreshes.count, 1, 'exactly one quiet refresh');

    // Now: the laptop signs in. The phone's live stream is held off meanwhile: hearing of the new
    // device, its page would re-read the list, which is activity, and it would be "active just now".
    await phone.page.route('**/sessions/events', (route) => route.abort('connectionrefused'));
    env.app.sessiond.liveStreams.dropAll();
    clock.advance(25 * MINUTE);
    await signIn(laptop.page, env, 'ADA@example.com');
    await devicesShown(laptop.page);
    await waitForRows(laptop.page, 2);
    assert.match((await laptop.page.locator('#devices-summary').textContent()) ?? '', /signed in on 2 devices/);
    assert.match((await laptop.page.locator('#account-name').textContent()) ?? '', /Ada Lovelace \(ada@example\.com\)/);

    const laptopRow = rows(laptop.page).filter({ has: laptop.page.locator('.badge') });
    assert.equal(await laptopRow.count(), 1, 'one "This device" badge');
    assert.match((await laptopRow.textContent()) ?? '', /Chrome \d+ on Linux.*This device/);
    assert.equal(await laptopRow.getByRole('button', { name: 'Sign out' }).count(), 0, 'this device is signed out from the header, not the list');
    assert.equal(await laptopRow.getByRole('img', { name: 'Computer' }).count(), 1);

    const phoneRow = row(laptop.page, 'Safari 17.1 on iOS 17.1');
    assert.equal(await phoneRow.getByRole('img', { name: 'Phone' }).count(), 1);
    assert.match((await phoneRow.textContent()) ?? '', /127\.0\.0\.1/);
    assert.match((await phoneRow.textContent()) ?? '', /Active 25 minutes ago/);
    assert.match((await phoneRow.textContent()) ?? '', /Signed in 2 days ago/);
    const started = phoneRow.locator('time').last();
    assert.match((await started.getAttribute('datetime')) ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.match((await started.getAttribute('title')) ?? '', /\d{4} at /, 'the exact time on hover');

    // The phone sees the same two sessions when it comes back to the tab, with the badge on itself.
    await phone.page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await waitForRows(phone.page, 2);
    assert.match((await rows(phone.page).filter({ has: phone.page.locator('.badge') }).textContent()) ?? '', /Safari 17\.1 on iOS/);

    await laptop.page.screenshot({ path: path.join(resultsDir, 'devices-page.png'), fullPage: true });
    await phone.page.screenshot({ path: path.join(resultsDir, 'devices-page-phone.png'), fullPage: true });

    await phone.page.unroute('**/sessions/events');

    // The laptop signs the phone out: confirmation, progress, the result, and the list updates in place.
    const navigations = countNavigations(laptop.page);
    await phoneRow.getByRole('button', { name: 'Sign out' }).click();
    assert.equal(await laptop.page.getByRole('dialog').getByRole('heading').textContent(), 'Sign out Safari 17.1 on iOS 17.1?');
    // The service's answer is held back a moment, so the progress can be seen.
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    const isRevokeOne = (url: URL) => /^\/sessions\/[\w-]+$/.test(url.pathname);
    await laptop.page.route(isRevokeOne, async (route) => {
      await held;
      await route.continue();
    });
    const confirmed = confirm(laptop.page, 'Sign out device');
    await laptop.page.waitForFunction(() => document.querySelector('#confirm-ok')?.textContent === 'Signing out…');
    assert.equal(await laptop.page.locator('#confirm-ok').isDisabled(), true);
    answer();
    await confirmed;
    await laptop.page.unroute(isRevokeOne);
    await waitForRows(laptop.page, 1);
    assert.equal(await status(laptop.page).textContent(), 'Signed out Safari 17.1 on iOS 17.1.');
    assert.equal(await laptop.page.evaluate(() => document.activeElement?.id), 'devices-title', 'focus lands on the list, not on <body>');
    assert.equal(navigations.count, 0, 'no full reload');

    // The phone finds out with no action (its live stream, or its reconnection being refused while
    // the stream was held off above) and lands on sign-in saying why.
    assert.match(await signInShown(phone.page), /You were signed out on this device: its session was ended from another device, or it expired\./);
    // Cleared by the service: the refused refresh that told the phone, or the one the page sends after
    // its stream said so (that request may still be on its way when sign-in shows).
    const cookieDeadline = Date.now() + 5000;
    while ((await refreshCookie(phone.context, env)) !== undefined && Date.now() < cookieDeadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await refreshCookie(phone.context, env), undefined, 'the dead refresh cookie was cleared');

    assert.deepEqual([...laptop.errors, ...phone.errors], []);
  });

  test('sign out of all other devices, then everywhere; long lists page through the API', async (t) => {
    const browser = await launchChromium(t);
    if (!browser) return;
    const env = await start(t);
    const laptop = await openDevice(browser, { userAgent: desktopUserAgent(browser), viewport: desktopViewport });
    const phone = await openDevice(browser, { userAgent: iPhoneUserAgent, viewport: phoneViewport, isMobile: true });

    await signUp(laptop.page, env, 'grace@example.com');
    await signIn(phone.page, env, 'grace@example.com');
    await devicesShown(phone.page);
    // Ten more sessions from other clients: twelve in all, two pages of ten.
    const others = [
      'Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
      'curl/8.5.0',
    ];
    for (let i = 0; i < 10; i++) {
      const ua = others[i % others.length]!;
      const res = await env.http.post('/auth/login', { email: 'grace@example.com', password }, { headers: { 'user-agent': ua } });
      assert.equal(res.status, 200);
    }

    await laptop.page.getByRole('button', { name: 'Refresh list' }).click();
    await waitForRows(laptop.page, 10);
    assert.equal(await laptop.page.locator('#page-info').textContent(), 'Page 1 of 2');
    // Every kind of device is shown with its icon, on one page or the other: the test's clock is
    // fixed, so all twelve sessions share one activity time and which two fall on page 2 is decided
    // by their (random) ids.
    const kinds = ['Computer', 'Phone', 'Tablet', 'Automated client'];
    const iconsShown = async () => Promise.all(kinds.map(async (kind) => (await laptop.page.getByRole('img', { name: kind, exact: true }).count()) > 0));
    const onFirstPage = await iconsShown();
    await laptop.page.screenshot({ path: path.join(resultsDir, 'devices-page-many.png'), fullPage: true });
    await laptop.page.getByRole('button', { name: 'Next' }).click();
    await waitForRows(laptop.page, 2);
    assert.equal(await laptop.page.locator('#page-info').textContent(), 'Page 2 of 2');
    const onSecondPage = await iconsShown();
    kinds.forEach((kind, i) => assert.ok(onFirstPage[i] || onSecondPage[i], `${kind} icon`));
    assert.equal(await laptop.page.evaluate(() => document.activeElement?.id), 'prev-page', 'at the end, focus stays on the pager');
    await laptop.page.getByRole('button', { name: 'Previous' }).click();
    await waitForRows(laptop.page, 10);

    // Sign out of all other devices. The first try meets a dropped connection: the dialog stays
    // open and says so in a sentence; the second try goes through, and only this device is left.
    const isRevokeOthers = (url: URL) => url.pathname === '/sessions' && url.searchParams.get('keepCurrent') === 'true';
    await laptop.page.route(isRevokeOthers, (route) => route.abort('connectionrefused'), { times: 1 });
    await laptop.page.getByRole('button', { name: 'Sign out of all other devices' }).click();
    const dialog = laptop.page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Sign out others' }).click();
    await dialog.getByRole('alert').getByText('Could not reach the service. Check your connection and try again.').waitFor();
    assert.equal(await dialog.isVisible(), true);
    await dialog.getByRole('button', { name: 'Sign out others' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await waitForRows(laptop.page, 1);
    assert.equal(await status(laptop.page).textContent(), 'Signed out of 11 other devices.');
    assert.equal(await laptop.page.locator('#pager').isHidden(), true);
    assert.equal(await laptop.page.locator('#device-list .badge').count(), 1);

    // The phone hears it at once.
    assert.match(await signInShown(phone.page), /ended from another device/);

    // Back in on the phone; then "Sign out everywhere" from the laptop ends both.
    await signIn(phone.page, env, 'grace@example.com');
    await devicesShown(phone.page);
    await laptop.page.getByRole('button', { name: 'Refresh list' }).click();
    await waitForRows(laptop.page, 2);
    await laptop.page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await confirm(laptop.page, 'Sign out everywhere');
    assert.match(await signInShown(laptop.page), /You signed out everywhere/, 'its own notice, not the stream\'s');
    assert.match(await signInShown(phone.page), /ended from another device.*Every device was signed out/);

    // Nothing restores either device now.
    await laptop.page.reload();
    assert.equal(await signInShown(laptop.page), '');
    assert.equal(await refreshCookie(laptop.context, env), undefined);

    assert.deepEqual([...laptop.errors, ...phone.errors], []);
  });

  test('live: signed out elsewhere -> back at sign-in with the reason within a second, no action; a new device appears without a reload', async (t) => {
    const browser = await launchChromium(t);
    if (!browser) return;
    const env = await start(t);
    const laptop = await openDevice(browser, { userAgent: desktopUserAgent(browser), viewport: desktopViewport });
    await signUp(laptop.page, env, 'mary@example.com');
    await waitForRows(laptop.page, 1);
    const navigations = countNavigations(laptop.page);

    // A device signs in elsewhere (another client of the API): it appears in the list by itself.
    const phone = await env.http.post('/auth/login', { email: 'mary@example.com', password }, { headers: { 'user-agent': iPhoneUserAgent } });
    assert.equal(phone.status, 200);
    const appeared = Date.now();
    await waitForRows(laptop.page, 2);
    assert.ok(Date.now() - appeared < 3000, `the new device appeared after ${Date.now() - appeared} ms`);
    await row(laptop.page, 'Safari 17.1 on iOS').waitFor();

    // That device signs out: it leaves the list by itself too.
    assert.equal((await env.http.post('/auth/logout', undefined, { token: phone.body.accessToken })).status, 204);
    await waitForRows(laptop.page, 1);

    // The laptop's own session is ended from elsewhere: back at sign-in, saying why, with no action.
    const other = await env.http.post('/auth/login', { email: 'mary@example.com', password });
    await waitForRows(laptop.page, 2);
    const target = await laptop.page.evaluate(() => document.querySelector('#device-list > li.current')?.getAttribute('data-session-id'));
    assert.ok(target);
    const revoked = Date.now();
    assert.equal((await env.http.delete(`/sessions/${target}`, { token: other.body.accessToken })).status, 200);
    const notice = await signInShown(laptop.page);
    const tookMs = Date.now() - revoked;
    assert.ok(tookMs < 1000, `sign-in shown ${tookMs} ms after the revocation (promise: within a second)`);
    assert.match(notice, /ended from another device.*It was signed out from another device\./);
    assert.equal(navigations.count, 0, 'no reload at any point');
    assert.deepEqual(laptop.errors, []);
  });

  test('live: the stream reconnects with back-off after the service restarts', async (t) => {
    const browser = await launchChromium(t);
    if (!browser) return;
    const env = await start(t);
    const laptop = await openDevice(browser, { userAgent: desktopUserAgent(browser), viewport: desktopViewport });
    let connects = 0;
    laptop.page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/sessions/events') connects++;
    });
    await signUp(laptop.page, env, 'kay@example.com');
    const deadline = Date.now() + 5000;
    while (env.app.sessiond.liveStreams.openStreams() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(connects, 1, 'one stream per signed-in page');
    assert.equal(env.app.sessiond.liveStreams.openStreams(), 1);
    // The connection drops (as when the service restarts): the page opens a new stream by itself.
    await laptop.page.route('**/sessions/events', (route) => route.abort('connectionreset'), { times: 1 });
    env.app.sessiond.liveStreams.dropAll();
    const again = Date.now() + 8000;
    while (connects < 3 && Date.now() < again) await new Promise((r) => setTimeout(r, 50));
    assert.ok(connects >= 3, `reconnected after a refused attempt (${connects} stream requests)`);
    const phone = await env.http.post('/auth/login', { email: 'kay@example.com', password }, { headers: { 'user-agent': iPhoneUserAgent } });
    assert.equal(phone.status, 200);
    await waitForRows(laptop.page, 2);
    assert.deepEqual(laptop.errors, []);
  });

  test('sign-in problems are shown as sentences, never JSON', async (t) => {
    const browser = await launchChromium(t);
    if (!browser) return;
    const env = await start(t);
    const registered = await env.http.post('/auth/register', { email: 'lin@example.com', password });
    assert.equal(registered.status, 201);
    const { page, errors } = await openDevice(browser, { userAgent: desktopUserAgent(browser), viewport: desktopViewport });

    await signIn(page, env, 'lin@example.com', 'not the password');
    const error = page.locator('#sign-in-error');
    await error.getByText('The email or password is incorrect.').waitFor();
    assert.equal(await error.getAttribute('role'), 'alert');
    assert.equal(await page.getByRole('button', { name: 'Sign in', exact: true }).isEnabled(), true);

    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.locator('#sign-up-email').fill('lin@example.com');
    await page.locator('#sign-up-password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#sign-up-error').getByText('An account with this email already exists.').waitFor();

    const text = (await page.locator('body').textContent()) ?? '';
    assert.doesNotMatch(text, /[{}]|urn:sessiond|"status"/);
    assert.deepEqual(errors, []);
  });

  test('the refresh cookie: HttpOnly, SameSite=Strict, /auth/refresh; scripts cannot read it; another site cannot use it', async (t) => {
    const browser = await launchChromium(t);
    if (!browser) return;
    const env = await start(t);
    const { context, page, errors } = await openDevice(browser, { userAgent: desktopUserAgent(browser), viewport: desktopViewport });
    await signUp(page, env, 'mo@example.com');

    const cookie = await refreshCookie(context, env);
    assert.ok(cookie, 'the refresh cookie is set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/auth/refresh');
    assert.doesNotMatch(await page.evaluate(() => document.cookie), /sessiond_refresh/);
    // Nor is any token kept in storage that a later script could read.
    const stored = await page.evaluate(() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)]));
    assert.doesNotMatch(stored, /eyJ|sessiond/);

    // A reload restores the session silently from the cookie (and rotates it).
    await page.reload();
    await devicesShown(page);
    const rotated = await refreshCookie(context, env);
    assert.ok(rotated && rotated.value !== cookie.value);

    // Pages of other origins in the same browser try to use it: another site (127.0.0.2), and
    // another origin of the same site (another port). They get no tokens, and the real session
    // is neither rotated nor ended by the attempts.
    // What reaches the service from elsewhere, seen by the service itself (the browser may drop
    // the answer before Playwright reports it).
    const sent: Array<{ origin: string | undefined; fetchSite: unknown; cookie: boolean; status: number }> = [];
    env.app.server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
      if (request.method !== 'POST' || !request.url?.startsWith('/auth/refresh') || request.headers.origin === env.url) return;
      const seen = { origin: request.headers.origin, fetchSite: request.headers['sec-fetch-site'], cookie: /sessiond_refresh=/.test(request.headers.cookie ?? '') };
      response.on('finish', () => sent.push({ ...seen, status: response.statusCode }));
    });
    for (const host of ['127.0.0.2', '127.0.0.1']) {
      const attacker = await serveAttackerPage(t, host);
      const evil = await context.newPage();
      await evil.goto(`${attacker}/?target=${encodeURIComponent(env.url)}`);
      const results = await evil.evaluate(() => (window as unknown as { attempts: Promise<Array<Record<string, unknown>>> }).attempts);
      for (const attempt of results) {
        assert.equal(attempt.gotToken, false, `${host}: ${JSON.stringify(attempt)}`);
        // With credentials and the custom header, the CORS preflight is refused: nothing is read.
        if (attempt.name === 'cors') assert.equal(attempt.error, 'TypeError', JSON.stringify(attempt));
        // A "simple" request goes out, but its answer is opaque to the page, or dropped altogether
        // (helmet's Cross-Origin-Resource-Policy: same-origin).
        if (attempt.name === 'no-cors') assert.ok(attempt.type === 'opaque' || attempt.error === 'TypeError', JSON.stringify(attempt));
      }
      await evil.close();
    }
    for (const request of sent) {
      assert.notEqual(request.status, 200, JSON.stringify(request));
      // SameSite=Strict: a request started by another site does not carry the cookie at all.
      if (request.origin?.startsWith('http://127.0.0.2')) assert.equal(request.cookie, false, JSON.stringify(request));
    }
    assert.ok(sent.length > 0, 'the simple requests did reach the service');
    assert.equal((await refreshCookie(context, env))?.value, rotated.value, 'no new tokens were issued');
    await page.reload();
    await devicesShown(page);
    assert.deepEqual(errors, []);
  });
});

function countNavigations(page: Page): { readonly count: number } {
  const seen = { count: 0 };
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) seen.count++;
  });
  return seen;
}

/**
 * A page of another origin that tries to spend the victim's refresh cookie with fetch: once as a
 * credentialed CORS request with the transport header (needs a preflight), once as a "simple"
 * no-cors request (no preflight, but no custom header and an unreadable answer).
 */
async function serveAttackerPage(t: import('node:test').TestContext, host: string): Promise<string> {
  const script = `
const target = new URLSearchParams(location.search).get('target');
async function attempt(name, init) {
  try {
    const response = await fetch(target + '/auth/refresh', { method: 'POST', credentials: 'include', body: '{}', ...init });
    const body = await response.text().catch(() => '');
    return { name, type: response.type, status: response.status, gotToken: body.includes('accessToken') };
  } catch (error) {
    return { name, error: error.name, gotToken: false };
  }
}
window.attempts = Promise.all([
  attempt('cors', { headers: { 'content-type': 'application/json', 'x-refresh-transport': 'cookie' } }),
  attempt('no-cors', { mode: 'no-cors', headers: { 'content-type': 'text/plain' } }),
]);`;
  const server = http.createServer((request, response) => {
    if (request.url?.startsWith('/attack.js')) {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Win a prize</title><script src="/attack.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return `http://${host}:${address.port}`;
}
