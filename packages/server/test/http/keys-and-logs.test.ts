// test-tier: full (slow: 11 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { generateKeyMaterial, loadOrCreateKeyFile, rotateKeys, writeKeyFile } from '../../src/tokens/key-store.ts';
import { redactPaths } from '../../src/app.ts';
import { backendNames } from '../helpers/backends.ts';
import { startApp } from '../helpers/app.ts';
import { TestClock } from '../helpers/clock.ts';
import { captureLogs } from '../helpers/logs.ts';
import { login, registerUser } from '../helpers/http.ts';

function tempDir(t: import('node:test').TestContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-keys-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('signing keys', () => {
  test('first start writes a key file (mode 0600) that later starts reuse: tokens survive a restart', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'keys.json');
    const clock = new TestClock();
    const env1 = await startApp(t, 'sqlite', { clock, config: { keysFile: file }, deps: { keys: undefined } });
    assert.ok(env1);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const a = await registerUser(env1.http);
    // a second app on the same key file verifies the first one's tokens (a restart, or another worker)
    const reread = loadOrCreateKeyFile(file, clock.now());
    assert.equal(reread.signingKeys.length, 1);
    const jwks1 = await env1.http.get('/.well-known/jwks.json');
    assert.equal(jwks1.body.keys[0].kid, reread.signingKeys[0]!.kid);
    assert.equal(jwks1.body.keys[0].d, undefined, 'no private part in the JWKS');
    assert.equal(jwks1.body.keys[0].alg, 'EdDSA');
    assert.equal((await env1.http.get('/auth/me', { token: a.accessToken })).status, 200);
    const env2 = await startApp(t, 'sqlite', { clock, config: { keysFile: file }, deps: { keys: undefined } });
    assert.ok(env2);
    const otherDb = await env2.http.get('/auth/me', { token: a.accessToken });
    // env2 has its own empty database: the signature verifies (same keys), the session is unknown there
    assert.equal(otherDb.status, 401);
    const viaJwks = await env2.http.get('/.well-known/jwks.json');
    assert.deepEqual(viaJwks.body, jwks1.body, 'both processes publish the same keys');
  });

  for (const backend of backendNames) {
    test(`rotation (${backend}): the previous key verifies until retired; JWKS follows`, async (t) => {
      const dir = tempDir(t);
      const file = path.join(dir, 'keys.json');
      const clock = new TestClock();
      writeKeyFile(file, generateKeyMaterial(clock.now()));
      const env = await startApp(t, backend, { clock, config: { keysFile: file, accessTokenTtlSeconds: 900, sessionIdleTimeoutSeconds: 86_400 }, deps: { keys: undefined } });
      if (!env) return;
      const { http, app } = env;
      const a = await registerUser(http);
      const oldKid = JSON.parse(Buffer.from(a.accessToken.split('.')[0]!, 'base64url').toString()).kid;

      clock.advanceSeconds(60);
      writeKeyFile(file, rotateKeys(loadOrCreateKeyFile(file, clock.now()), clock.now(), 7 * 86_400_000));
      assert.equal(app.sessiond.reloadKeys(), true);
      const b = await login(http, a);
      const newKid = JSON.parse(Buffer.from(b.accessToken.split('.')[0]!, 'base64url').toString()).kid;
      assert.notEqual(newKid, oldKid, 'the new key signs');
      assert.deepEqual((await http.get('/.well-known/jwks.json')).body.keys.map((k: any) => k.kid), [newKid, oldKid]);
      assert.equal((await http.get('/auth/me', { token: a.accessToken })).status, 200, 'a token of the previous key still verifies');

      // every token the old key signed has expired 900 s after the rotation; +120 s slack
      clock.advanceSeconds(900 + 120);
      assert.equal((await http.get('/auth/me', { token: a.accessToken })).status, 401, 'retired key: refused');
      assert.deepEqual((await http.get('/.well-known/jwks.json')).body.keys.map((k: any) => k.kid), [newKid]);
      const fresh = await http.post('/auth/refresh', { refreshToken: b.refreshToken });
      assert.equal((await http.get('/auth/me', { token: fresh.body.accessToken })).status, 200);
    });
  }

  test('tokens from another deployment (other keys, other issuer) are refused', async (t) => {
    const clock = new TestClock();
    const ours = await startApp(t, 'sqlite', { clock });
    const theirs = await startApp(t, 'sqlite', { clock, config: { jwtIssuer: 'other', jwtAudience: 'other' } });
    assert.ok(ours && theirs);
    const stranger = await registerUser(theirs.http);
    const res = await ours.http.get('/sessions', { token: stranger.accessToken });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
  });
});

describe('logs', () => {
  test('no token, password or cookie reaches a log line, even at trace level', async (t) => {
    const logs = captureLogs();
    const env = await startApp(t, 'sqlite', { deps: { logger: { level: 'trace', stream: logs.stream, redact: redactPaths } } });
    assert.ok(env);
    const { http } = env;
    const password = 'a very secret passphrase';
    const a = await registerUser(http, { password });
    const b = await login(http, a);
    const r = await http.post('/auth/refresh', { refreshToken: b.refreshToken });
    await http.get('/sessions', { token: a.accessToken, headers: { cookie: 'sessiond_refresh=cookie-secret-value' } });
    await http.post('/auth/login', { email: a.email, password: 'wrong password here' });
    await http.post('/auth/refresh', { refreshToken: 'not-a-token' });
    await http.get(`/sessions/validate/${a.sessionId}`, { token: `${a.accessToken}x` });
    const log = logs.text();
    assert.ok(logs.lines().length >= 8, 'the logger really captured lines');
    assert.match(log, /\/auth\/refresh/, 'requests are logged');
    for (const secret of [password, 'wrong password here', a.accessToken, b.accessToken, r.body.accessToken, a.refreshToken, b.refreshToken, r.body.refreshToken, 'cookie-secret-value']) {
      assert.ok(!log.includes(secret), `a secret leaked into the log: ${secret.slice(0, 12)}…`);
      // nor the signature part alone
      const tail = secret.split('.').pop()!;
      if (tail.length > 20) assert.ok(!log.includes(tail), 'a token signature leaked');
    }
  });
});
