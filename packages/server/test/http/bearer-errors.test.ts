import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startApp } from '../helpers/app.ts';
import { assertProblem } from '../helpers/hostile.ts';
import { registerUser } from '../helpers/http.ts';

// The bearer check (http/authenticate.ts) turns only an invalid token into 401. Any other failure
// while checking one is a bug or an outage: it must surface as a 500 problem (its message and stack
// only in the log), never as a 401 that would hide it behind "your token is bad" (issue 18).

test('a non-token error in the bearer check is a 500 problem without internals, not a 401', async (t) => {
  // The fast path off: the request must go through the bearer hook, whatever the fast path caches.
  const started = await startApp(t, 'sqlite', { config: { fastPath: false } });
  assert.ok(started);
  const { app, http } = started;
  const user = await registerUser(http);
  // Not used before the fault: a token the bearer check has verified is answered from its cache
  // (http/authenticate.ts cachedPrincipal) without calling the verifier again.

  // The fault: the verifier itself breaks (a bug), whatever the token.
  t.mock.method(app.sessiond.accessTokens, 'verify', async () => {
    throw new TypeError('verifier bug: cannot read properties of undefined');
  });
  const res = await http.get('/auth/me', { token: user.accessToken });
  const body = assertProblem(res, 500, 'bug in the bearer check');
  assert.equal(body.type, 'urn:sessiond:problem:internal');
  assert.doesNotMatch(res.text, /verifier bug|TypeError|\.ts:\d+/, 'neither the message nor a stack in the answer');

  // Without the fault the same token is good (so the 500 was the bug, not the token), and an
  // invalid token is still a 401 from the same check (it throws the token error).
  t.mock.restoreAll();
  assert.equal((await http.get('/auth/me', { token: user.accessToken })).status, 200);
  const bad = await http.get('/auth/me', { token: `${user.accessToken.slice(0, -2)}xx` });
  assert.equal(assertProblem(bad, 401, 'tampered token').type, 'urn:sessiond:problem:invalid-token');
});
