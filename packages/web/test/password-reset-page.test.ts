// test-tier: full (Chromium)
// Password reset and sign-in methods on the devices page, in a real headless Chromium, against the
// real service with a real SMTP server (in this process) receiving the reset mail.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { defaultConfig } from '../../server/src/config.ts';
import { freePort, startApp } from '../../server/test/helpers/app.ts';
import { backendNames } from '../../server/test/helpers/backends.ts';
import { TestClock } from '../../server/test/helpers/clock.ts';
import { login, registerUser } from '../../server/test/helpers/http.ts';
import { readResetMail, startSmtpServer } from '../../server/test/helpers/smtp.ts';
import { ensureBuilt } from '../../../scripts/build.mjs';
import { desktopUserAgent, launchChromium, openDevice } from './helpers/browser.ts';

const NEW_PASSWORD = 'a brand new passphrase 42';

before(async () => {
  await ensureBuilt(['web'], { ifStale: true, quiet: true });
});

for (const backend of backendNames) {
  describe(`the devices page: sign-in methods and password reset (${backend})`, () => {
    test('"Signed in with Google"; "Forgot your password?" -> mail -> link -> new password; old sessions refused; the link works once', async (t) => {
      const smtp = await startSmtpServer(t);
      // The app's own address is in its reset links (PUBLIC_URL), so it listens on a port chosen first.
      const port = await freePort();
      const env = await startApp(t, backend, {
        port,
        clock: new TestClock(Date.now()),
        config: {
          publicUrl: `http://127.0.0.1:${port}`,
          mail: { ...defaultConfig.mail, smtpUrl: smtp.url, from: 'Accounts <no-reply@example.com>', pollIntervalMs: 0, timeoutMs: 2000 },
        },
      });
      if (!env) return;
      const browser = await launchChromium(t);
      if (!browser) return;
      const { http, app, clock } = env;

      // Two sessions from elsewhere: a password sign-in, and one issued by the application's backend.
      const ada = await registerUser(http, { email: 'ada@example.com' });
      const key = { 'x-service-key': (await app.sessiond.serviceKeys.create('backend', ['sessions:issue'], clock.now())).secret };
      const issued = await http.post(`/admin/users/${ada.userId}/sessions`, { ipAddress: '198.51.100.7', userAgent: null, authMethod: 'oauth:google' }, { headers: key });
      assert.equal(issued.status, 201, issued.text);

      const { page, errors } = await openDevice(browser, { userAgent: desktopUserAgent(browser), viewport: { width: 1024, height: 760 } });
      await page.goto(env.url + '/');
      await page.locator('#sign-in-email').fill('ada@example.com');
      await page.locator('#sign-in-password').fill(ada.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Your devices' }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('#device-list > li').length === 3);
      const googleRow = page.locator(`#device-list > li[data-session-id="${issued.body.sessionId}"]`);
      assert.match((await googleRow.textContent()) ?? '', /Signed in with Google/);
      const passwordRow = page.locator(`#device-list > li[data-session-id="${ada.sessionId}"]`);
      assert.doesNotMatch((await passwordRow.textContent()) ?? '', /Signed in with/);
      await page.getByRole('button', { name: 'Sign out', exact: true }).first().waitFor();
      await page.locator('#sign-out').click();
      await page.locator('#sign-in-form').waitFor();

      // Forgot the password: the page asks for the email and says the same whatever it is.
      await page.getByRole('button', { name: 'Forgot your password?' }).click();
      await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
      await page.locator('#forgot-email').fill('ada@example.com');
      await page.getByRole('button', { name: 'Send reset link' }).click();
      await page.locator('#forgot-done').filter({ hasText: 'If an account has this email address' }).waitFor();

      assert.deepEqual(await app.sessiond.passwordResets.tick(), { delivered: 1, dropped: 0, failed: 0 });
      assert.equal(smtp.mails.length, 1);
      const { link } = readResetMail(smtp.mails[0]!);
      assert.ok(link.startsWith(`${env.url}/reset-password?token=`), link);

      // Following the link: the reset form, and the token is gone from the address bar at once.
      await page.goto(link);
      await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
      assert.equal(page.url(), `${env.url}/`);
      // A password the policy refuses (the browser's own checks pass it): the service's sentence, and the link stays usable.
      await page.locator('#reset-password').fill('12345678');
      await page.getByRole('button', { name: 'Set new password' }).click();
      await page.locator('#reset-error').filter({ hasText: /most common/ }).waitFor();
      await page.locator('#reset-password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Set new password' }).click();
      await page.locator('#auth-notice').filter({ hasText: 'Your new password is set' }).waitFor();

      // Every old session is refused on its next request.
      assert.equal((await http.get('/auth/me', { token: ada.accessToken })).status, 401);
      assert.equal((await http.get('/auth/me', { token: issued.body.accessToken })).status, 401);
      assert.equal((await http.post('/auth/login', { email: 'ada@example.com', password: ada.password })).status, 401);

      // The new password signs in on the page.
      await page.locator('#sign-in-email').fill('ada@example.com');
      await page.locator('#sign-in-password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Your devices' }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('#device-list > li').length === 1);

      // The link a second time: refused, with the page's sentence.
      const second = await (await browser.newContext()).newPage();
      await second.goto(link);
      await second.getByRole('heading', { name: 'Choose a new password' }).waitFor();
      await second.locator('#reset-password').fill('yet another passphrase 7');
      await second.getByRole('button', { name: 'Set new password' }).click();
      await second.locator('#reset-error').filter({ hasText: /invalid, already used/ }).waitFor();
      assert.equal((await login(http, { email: 'ada@example.com', password: NEW_PASSWORD })).email, 'ada@example.com');
      assert.deepEqual(errors, []);
    });
  });
}
