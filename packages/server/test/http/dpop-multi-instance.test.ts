// test-tier: full (Redis, PostgreSQL, service processes)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createPostgresDatabase } from '../helpers/backends.ts';
import { DeviceKey } from '../helpers/dpop.ts';
import { startPrivateRedis, startServiceProcess } from '../helpers/processes.ts';

/**
 * Issue 17 across two real service processes sharing PostgreSQL, the key file and a private Redis:
 * a proof used at one instance is refused at the other (the jti replay check is shared), and a bound
 * session's refresh token replayed at the other instance without the key is refused and recorded
 * while the device goes on. Never skipped: PostgreSQL and redis-server are required.
 */
// Longer than the 60 s default: two service processes and a private Redis.
test('DPoP across two instances sharing Redis', { timeout: 180_000 }, async (t) => {
  const { url, drop } = await createPostgresDatabase();
  t.after(drop);
  const redis = await startPrivateRedis(t);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-dpop-multi-'));
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const env = { DATABASE_URL: url, REDIS_URL: redis.url, DATA_DIR: dataDir };
  const a = await startServiceProcess(t, env);
  const b = await startServiceProcess(t, env);
  const key = await DeviceKey.generate(Date.now);

  const signUp = await a.http.post('/auth/register', { email: 'multi@example.com', password: 'correct horse battery staple' }, {
    headers: { dpop: await key.proof({ htm: 'POST', htu: `${a.url}/auth/register` }) },
  });
  assert.equal(signUp.status, 201, signUp.text);
  const token = signUp.body.accessToken;

  // The same proof (same jti) at both instances; htu names an external URL both accept (a proxy's).
  const proof = await key.proof({ htm: 'GET', htu: `${a.url}/auth/me`, accessToken: token });
  const atA = await a.http.get('/auth/me', { headers: { authorization: `DPoP ${token}`, dpop: proof } });
  assert.equal(atA.status, 200, atA.text);
  // At B the URL differs by port; make B's proof with the same jti but B's URL: a different proof,
  // same key and jti, so only the shared replay check can refuse it.
  const sameJti = await key.proof({ htm: 'GET', htu: `${b.url}/auth/me`, accessToken: token, jti: JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()).jti });
  const atB = await b.http.get('/auth/me', { headers: { authorization: `DPoP ${token}`, dpop: sameJti } });
  assert.equal(atB.status, 401, atB.text);
  assert.match(atB.body.detail, /already used/);
  // A fresh proof at B is fine.
  assert.equal((await b.http.get('/auth/me', { headers: { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'GET', htu: `${b.url}/auth/me`, accessToken: token }) } })).status, 200);

  // The copied refresh token at B, without the key: refused, recorded; the device refreshes at A.
  const stolen = await b.http.post('/auth/refresh', { refreshToken: signUp.body.refreshToken });
  assert.equal(stolen.status, 401);
  const device = await a.http.post('/auth/refresh', { refreshToken: signUp.body.refreshToken }, { headers: { dpop: await key.proof({ htm: 'POST', htu: `${a.url}/auth/refresh` }) } });
  assert.equal(device.status, 200, device.text);
  assert.equal(device.body.tokenType, 'DPoP');
});
