// The operators' client: AdminApi authorised by an admin API key (Configuration.apiKey).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { AdminApi, AuthApi, Configuration, ResponseError, SessionsApi } from '../src/index.ts';

test('AdminApi: find a user, list and revoke their sessions, read the audit log', async (t) => {
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const { secret } = await env.app.sessiond.adminKeys.create('sdk-test', env.clock.now());
  const admin = new AdminApi(new Configuration({ basePath: env.url, apiKey: secret }));
  const auth = new AuthApi(new Configuration({ basePath: env.url }));
  const ada = await auth.authControllerRegister({ registerRequest: { email: 'ada@example.com', password: 'correct horse battery staple' } });

  const user = await admin.adminControllerFindUser({ email: 'ADA@example.com' });
  assert.equal(user.id, ada.user.id);
  assert.equal(user.activeSessionCount, 1);
  const list = await admin.adminControllerListUserSessions({ userId: user.id, status: 'active' });
  assert.deepEqual(list.data.map((s) => s.id), [ada.sessionId]);
  assert.deepEqual(await admin.adminControllerRevokeUserSessions({ userId: user.id }), { revokedCount: 1 });
  const sessions = new SessionsApi(new Configuration({ basePath: env.url, accessToken: ada.accessToken }));
  await assert.rejects(sessions.sessionControllerGetSessionCount(), (e: unknown) => e instanceof ResponseError && e.status === 401);
  const events = await admin.adminControllerListEvents({ userId: user.id });
  assert.deepEqual(events.data.map((e) => [e.type, e.reason]), [['session.created', null], ['session.revoked', 'admin']]);
  assert.deepEqual(await admin.adminControllerGetStats(), { users: 1, activeSessions: 0 });

  const wrong = new AdminApi(new Configuration({ basePath: env.url, apiKey: async () => 'sdk_admin_nope' }));
  await assert.rejects(wrong.adminControllerGetStats(), (e: unknown) => e instanceof ResponseError && e.status === 401 && e.title === 'Invalid or missing admin API key');
});
