import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeError, deviceName, exactTime, plural, signInMethod, timeAgo, unboundUseWarning } from '../src/format.ts';
import { FetchError, ResponseError } from '../src/sdk.ts';

const now = Date.parse('2026-11-27T12:00:00Z');
const ago = (ms: number) => new Date(now - ms).toISOString();
const problem = (status: number, body: Record<string, unknown>) =>
  ResponseError.fromResponse(new Response(JSON.stringify({ type: 'urn:sessiond:problem:x', title: 'Title', status, ...body }), { status, headers: { 'content-type': 'application/problem+json' } }));

describe('what the page says', () => {
  test('how a session signed in: nothing for a password, the provider by name, others as given', () => {
    assert.deepEqual(
      ['password', 'oauth:google', 'oauth:github', 'saml', 'magic_link', 'oauth:okta', 'corp_sso'].map(signInMethod),
      ['', 'with Google', 'with GitHub', 'with single sign-on', 'with an email link', 'with Okta', 'with corp_sso'],
    );
  });

  test('times in words', () => {
    assert.equal(timeAgo(ago(5_000), now), 'just now');
    assert.equal(timeAgo(ago(-30_000), now), 'just now', 'a server clock slightly ahead is not "in 30 seconds"');
    assert.equal(timeAgo(ago(60_000), now), '1 minute ago');
    assert.equal(timeAgo(ago(2 * 60_000 + 59_000), now), '2 minutes ago');
    assert.equal(timeAgo(ago(3 * 3600_000), now), '3 hours ago');
    assert.equal(timeAgo(ago(26 * 3600_000), now), 'yesterday');
    assert.equal(timeAgo(ago(15 * 86400_000), now), '2 weeks ago');
    assert.equal(timeAgo(ago(400 * 86400_000), now), 'last year');
    assert.match(exactTime('2026-11-27T08:09:29.000Z'), /2026/);
  });

  test('device names', () => {
    assert.equal(deviceName({ browser: 'Chrome 131.0.6778.85', os: 'Linux', type: 'desktop' }), 'Chrome 131 on Linux');
    assert.equal(deviceName({ browser: 'Safari 17.1', os: 'iOS 17.1', type: 'mobile' }), 'Safari 17.1 on iOS 17.1');
    assert.equal(deviceName({ browser: 'Firefox 133.0', os: 'Windows NT 10.0', type: 'desktop' }), 'Firefox 133 on Windows');
    assert.equal(deviceName({ browser: 'curl 8.5.0', os: null, type: 'bot' }), 'curl 8.5.0');
    assert.equal(deviceName({ browser: null, os: 'Android 14', type: 'mobile' }), 'Unknown browser on Android 14');
    assert.equal(deviceName({ browser: null, os: null, type: 'unknown' }), 'Unknown device');
    assert.equal(deviceName({ browser: null, os: null, type: 'bot' }), 'Automated client');
  });

  test('errors are sentences', async () => {
    assert.equal(describeError(await problem(401, { detail: 'The email or password is incorrect.' })), 'The email or password is incorrect.');
    assert.equal(describeError(await problem(409, { detail: 'An account with this email already exists' })), 'An account with this email already exists.');
    assert.equal(
      describeError(await problem(400, { detail: 'body.email must match format "email"', errors: [{ field: 'body.email', message: 'must match format "email"' }] })),
      'Please check the email address.',
    );
    assert.match(describeError(await problem(503, { detail: 'The database is unreachable; retry shortly.' })), /try again/);
    assert.equal(describeError(await ResponseError.fromResponse(new Response('<html>', { status: 502, statusText: 'Bad Gateway' }))), 'The service had a problem and could not do that. Please try again in a moment.');
    assert.match(describeError(new FetchError(new TypeError('fetch failed'))), /Could not reach the service/);
    assert.doesNotMatch(describeError(new Error('{"x":1}')), /[{}]/);
  });

  test('the warning on a device whose refresh token was tried without its key', () => {
    assert.match(unboundUseWarning(1), /^Someone tried to use this session's refresh token without its key; the key kept them out\./);
    assert.match(unboundUseWarning(3), /without its key \(3 times\);/);
  });

  test('counts', () => {
    assert.equal(plural(1, 'other device'), '1 other device');
    assert.equal(plural(3, 'other device'), '3 other devices');
  });
});
