import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { requireFullTier } from '../../../server/test/helpers/tier.ts';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Real headless Chromium for the page's tests: Debian's package (Playwright cannot download its
 * own browsers here), driven by playwright-core. Missing Chromium fails the test in CI (CI set)
 * and skips it elsewhere, saying how to install it.
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Where screenshots go (gitignored). */
export const resultsDir = path.resolve(import.meta.dirname, '../../../../test-results');

export async function launchChromium(t: TestContext): Promise<Browser | undefined> {
  requireFullTier('Chromium');
  if (!fs.existsSync(chromiumPath)) {
    const message = `Chromium is not installed at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`;
    if (process.env.CI) assert.fail(`${message}: the browser tests cannot run`);
    t.skip(`${message}: browser tests skipped`);
    return undefined;
  }
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  t.after(() => browser.close());
  return browser;
}

/** A desktop Chrome on Linux, named as a real one would be (headless Chromium says "HeadlessChrome"). */
export function desktopUserAgent(browser: Browser): string {
  const major = browser.version().split('.')[0];
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`;
}

export const iPhoneUserAgent =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

/** One device: an isolated browser context (its own cookies), with a page that fails the test on page errors. */
export async function openDevice(
  browser: Browser,
  options: { userAgent: string; viewport: { width: number; height: number }; isMobile?: boolean },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ ...options, hasTouch: options.isMobile ?? false, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // A CSP violation is reported on the console: the page must not cause any.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) errors.push(message.text());
  });
  return { context, page, errors };
}
