import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, EnvSchema, loadConfig } from '../../src/config.ts';

/**
 * Every variable of config.ts with a bad value: the loader refuses it with ONE line that names the
 * variable and says what it accepts. The table must cover every variable the schema declares, so a
 * variable added later fails this test until it has its row.
 */
const badValues: Record<string, { value: string; accepts: RegExp }> = {
  PORT: { value: '70000', accepts: /integer from 0 to 65535/ },
  HOST: { value: 'not a host', accepts: /host name or an IP address/ },
  DATA_DIR: { value: 'd'.repeat(5000), accepts: /1 to 4096 characters/ },
  DATABASE_URL: { value: 'mysql://db/sessiond', accepts: /postgres:\/\/ or postgresql:\/\/ URL/ },
  REDIS_URL: { value: 'http://127.0.0.1:6379', accepts: /redis:\/\/ or rediss:\/\/ URL/ },
  WORKERS: { value: '0', accepts: /integer from 1 to 64/ },
  PG_NOTIFY: { value: 'maybe', accepts: /on, off, true, false, 1 or 0/ },
  FAST_PATH: { value: 'yes please', accepts: /on, off, true, false, 1 or 0/ },
  LOG_LEVEL: { value: 'loud', accepts: /one of fatal, error, warn, info, debug, trace, silent/ },
  // The one that crashed with "TypeError: value.replace is not a function" (a converted number).
  ACCESS_TOKEN_TTL_SECONDS: { value: '1', accepts: /integer from 30 to 86400/ },
  SESSION_IDLE_TIMEOUT_SECONDS: { value: '1.5', accepts: /integer from 60 to 31536000/ },
  SESSION_ABSOLUTE_LIFETIME_SECONDS: { value: 'thirty days', accepts: /integer from 60 to 31536000/ },
  JWT_ISSUER: { value: 'i'.repeat(201), accepts: /1 to 200 characters/ },
  JWT_AUDIENCE: { value: 'a'.repeat(201), accepts: /1 to 200 characters/ },
  SESSION_CACHE_MAX_ENTRIES: { value: '-1', accepts: /integer from 0 to 10000000/ },
  REVOCATION_POLL_INTERVAL_MS: { value: '10', accepts: /integer from 50 to 60000/ },
  REFRESH_REUSE_GRACE_SECONDS: { value: '61', accepts: /integer from 0 to 60/ },
  MAX_SESSIONS_PER_USER: { value: 'many', accepts: /integer from 0 to 10000/ },
  SESSION_LIMIT_MODE: { value: 'drop', accepts: /one of refuse, evict/ },
  SESSION_HISTORY_RETENTION_SECONDS: { value: '99999999999', accepts: /integer from 0 to 31536000/ },
  PURGE_INTERVAL_SECONDS: { value: '86401', accepts: /integer from 0 to 86400/ },
  KEYS_FILE: { value: 'k'.repeat(5000), accepts: /1 to 4096 characters/ },
  TRUST_PROXY: { value: '10.0.0.0/8,proxy.example.com', accepts: /TRUST_PROXY: entry 2 .*IP addresses, CIDRs/ },
  CORS_ORIGINS: { value: 'https://app.example.com/', accepts: /CORS_ORIGINS: entry 1 .*origins such as/ },
  RATE_LIMIT: { value: 'disabled', accepts: /on, off, true, false, 1 or 0/ },
  REQUIRE_DPOP: { value: 'always', accepts: /on, off, true, false, 1 or 0/ },
  DPOP_REQUIRE_NONCE: { value: 'yes', accepts: /on, off, true, false, 1 or 0/ },
  RATE_LIMIT_PER_IP_PER_MINUTE: { value: '0', accepts: /integer from 1 to 1000000/ },
  LOGIN_FAILURES_BEFORE_DELAY: { value: '1001', accepts: /integer from 1 to 1000/ },
  RATE_LIMIT_IPV6_PREFIX: { value: '129', accepts: /integer from 1 to 128/ },
  WEBHOOK_URLS: { value: 'ftp://hooks.example.com/x', accepts: /WEBHOOK_URLS: entry 1 is not an http\(s\) URL/ },
  WEBHOOK_SECRET: { value: 'too short', accepts: /WEBHOOK_SECRET=\(hidden\): expected 32 to 1000 characters/ },
  METRICS_TOKEN: { value: 'has a space in it!', accepts: /METRICS_TOKEN=\(hidden\): expected a token of 16 to 1000 printable ASCII/ },
  PUBLIC_URL: { value: 'ftp://auth.example.com', accepts: /PUBLIC_URL=.*expected an http\(s\) URL such as https:\/\/auth\.example\.com/ },
  SMTP_URL: { value: 'http://mailer:pw@smtp.example.com', accepts: /SMTP_URL=.*expected an smtp:\/\/ or smtps:\/\/ URL/ },
  MAIL_FROM: { value: 'ab', accepts: /MAIL_FROM="ab": expected 3 to 320 characters/ },
};

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${String(error)}`);
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(env).slice(0, 200)}`);
}

describe('configuration', () => {
  test('the table covers every variable of the schema', () => {
    assert.deepEqual(Object.keys(badValues).sort(), Object.keys(EnvSchema.properties).sort());
  });

  for (const [name, bad] of Object.entries(badValues)) {
    test(`${name}=<bad> stops the start with one line naming it and what it accepts`, () => {
      const message = refusal({ [name]: bad.value });
      assert.ok(!message.includes('\n'), `one line: ${JSON.stringify(message)}`);
      assert.ok(message.startsWith('Invalid configuration: '), message);
      assert.ok(message.includes(name), `names ${name}: ${message}`);
      assert.match(message, bad.accepts);
      assert.ok(message.length < 400, `short: ${message.length} characters`);
    });
  }

  test('secrets and URL passwords never appear in the message', () => {
    const message = refusal({ WEBHOOK_SECRET: 'short-but-secret', METRICS_TOKEN: 'secret token!', DATABASE_URL: 'mysql://admin:hunter2@db/x' });
    assert.ok(!message.includes('short-but-secret') && !message.includes('secret token') && !message.includes('hunter2'), message);
    assert.ok(!message.includes('\n'), 'still one line with several bad variables');
    for (const name of ['WEBHOOK_SECRET', 'METRICS_TOKEN', 'DATABASE_URL']) assert.ok(message.includes(name), message);
  });

  test('booleans accept on/off/true/false/1/0 in any case', () => {
    const forms: [string, boolean][] = [['on', true], ['off', false], ['true', true], ['false', false], ['1', true], ['0', false], ['ON', true], ['False', false], ['TRUE', true], [' Off ', false]];
    for (const [value, expected] of forms) {
      const config = loadConfig({ RATE_LIMIT: value, PG_NOTIFY: value, FAST_PATH: value });
      assert.deepEqual([config.rateLimit.enabled, config.pgNotify, config.fastPath], [expected, expected, expected], `"${value}"`);
    }
    const defaults = loadConfig({});
    assert.deepEqual([defaults.rateLimit.enabled, defaults.pgNotify, defaults.fastPath], [true, true, true]);
  });

  test('good values are taken; empty values count as unset', () => {
    const config = loadConfig({
      ACCESS_TOKEN_TTL_SECONDS: '30', HOST: '::', TRUST_PROXY: '10.0.0.0/8, loopback, ::1/128, 192.168.0.0/255.255.0.0',
      CORS_ORIGINS: 'https://app.example.com,http://localhost:5173', METRICS_TOKEN: 'abcdefghijklmnop', PORT: '',
    });
    assert.equal(config.accessTokenTtlSeconds, 30);
    assert.equal(config.host, '::');
    assert.deepEqual(config.trustProxy, ['10.0.0.0/8', 'loopback', '::1/128', '192.168.0.0/255.255.0.0']);
    assert.deepEqual(config.corsOrigins, ['https://app.example.com', 'http://localhost:5173']);
    assert.equal(config.metricsToken, 'abcdefghijklmnop');
    assert.equal(config.port, 3000);
  });
});

test('REQUIRE_DPOP and DPOP_REQUIRE_NONCE are booleans, off by default', () => {
  assert.deepEqual(loadConfig({}).dpop, { required: false, requireNonce: false, iatWindowSeconds: 60 });
  assert.deepEqual(loadConfig({ REQUIRE_DPOP: 'On', DPOP_REQUIRE_NONCE: '1' }).dpop, { required: true, requireNonce: true, iatWindowSeconds: 60 });
  assert.equal(loadConfig({ REQUIRE_DPOP: 'false' }).dpop.required, false);
});
