import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startApp } from '../helpers/app.ts';

describe('password policy (ASVS 6.2)', () => {
  test('length 8 to 128 characters counted as a person counts them, no composition rules, common passwords refused', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const register = (password: string, email = `p${Math.random()}@example.com`) => env.http.post('/auth/register', { email, password });
    const cases: Array<[string, number]> = [
      ['short12', 400],
      ['qwertyuiop', 400], // common
      ['Password', 400], // common, case-insensitively
      ['iloveyou', 400],
      ['12345678', 400],
      ['correct horse battery staple', 201], // a passphrase: no digits or symbols required
      ['ñandú ñandú ñ', 201],
      ['😀😀😀😀😀😀😀😀', 201], // 8 characters (16 UTF-16 code units)
      ['😀😀😀😀😀😀😀', 400],
      ['x'.repeat(128), 201],
      ['x'.repeat(129), 400],
      ['        ', 400],
    ];
    for (const [password, status] of cases) {
      const res = await register(password);
      assert.equal(res.status, status, `${JSON.stringify(password.slice(0, 20))}: ${res.text}`);
      if (status === 400) assert.equal(res.body.type, 'urn:sessiond:problem:weak-password');
    }
    const same = await register('someone@example.com', 'someone@example.com');
    assert.equal(same.status, 400, 'the email itself is refused as a password');
    // the password is verified exactly as typed (no trimming, no case folding)
    await register('  Exactly As Typed  ', 'exact@example.com');
    assert.equal((await env.http.post('/auth/login', { email: 'exact@example.com', password: 'Exactly As Typed' })).status, 401);
    assert.equal((await env.http.post('/auth/login', { email: 'exact@example.com', password: '  Exactly As Typed  ' })).status, 200);
  });
});
