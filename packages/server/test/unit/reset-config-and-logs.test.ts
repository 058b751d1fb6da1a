import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { logUrl } from '../../src/observability/access-log.ts';
import { createLinkSealer } from '../../src/password-reset/reset-token.ts';

test('PUBLIC_URL, SMTP_URL and MAIL_FROM: validated together, the SMTP password never echoed', () => {
  const config = loadConfig({ PUBLIC_URL: 'https://accounts.example.com/', SMTP_URL: 'smtps://mailer:s3cret@smtp.example.com:465', MAIL_FROM: 'Ex <no-reply@example.com>' });
  assert.equal(config.publicUrl, 'https://accounts.example.com', 'no trailing slash: links are PUBLIC_URL/reset-password');
  assert.deepEqual([config.mail.smtpUrl, config.mail.from], ['smtps://mailer:s3cret@smtp.example.com:465', 'Ex <no-reply@example.com>']);
  assert.equal(loadConfig({}).mail.smtpUrl, undefined);
  for (const [env, expected] of [
    [{ SMTP_URL: 'smtp://mailer:s3cret@127.0.0.1:25', PUBLIC_URL: 'https://a.example' }, /MAIL_FROM: required/],
    [{ SMTP_URL: 'smtp://mailer:s3cret@127.0.0.1:25', MAIL_FROM: 'a@b.c' }, /PUBLIC_URL: required/],
    [{ SMTP_URL: 'http://mailer:s3cret@127.0.0.1:25' }, /SMTP_URL/],
    [{ PUBLIC_URL: 'ftp://a.example' }, /PUBLIC_URL/],
    [{ PUBLIC_URL: 'https://user:pw@a.example' }, /PUBLIC_URL=.*must not contain credentials/],
  ] as const) {
    assert.throws(() => loadConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, expected);
      assert.ok(!error.message.includes('s3cret'), error.message);
      return true;
    });
  }
});

test('the request log never prints the value of a token query parameter', () => {
  assert.equal(logUrl('/reset-password?token=abcDEF_-123'), '/reset-password?token=***');
  assert.equal(logUrl('/x?a=1&token=secret&b=2'), '/x?a=1&token=***&b=2');
  assert.equal(logUrl('/x?TOKEN=secret'), '/x?TOKEN=***');
  assert.equal(logUrl('/sessions?page=2'), '/sessions?page=2');
  assert.equal(logUrl('/sessions'), '/sessions');
});

test('a sealed link opens only with the same key, and not after any change', () => {
  const sealer = createLinkSealer('key-one');
  const link = 'https://a.example/reset-password?token=abc';
  const sealed = sealer.seal(link);
  assert.ok(!sealed.includes('abc'));
  assert.notEqual(sealer.seal(link), sealed, 'a fresh nonce each time');
  assert.equal(sealer.open(sealed), link);
  assert.equal(createLinkSealer('key-two').open(sealed), undefined);
  const altered = Buffer.from(sealed, 'base64url');
  altered[altered.length - 1]! ^= 1;
  assert.equal(sealer.open(altered.toString('base64url')), undefined);
  assert.equal(sealer.open('garbage'), undefined);
});
