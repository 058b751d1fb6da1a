// test-tier: full (generates and compiles a client)
// An integrator's client generated from the committed openapi.json with openapi-typescript, used
// through openapi-fetch: the generated types must check the flow below under `tsc --strict`, and
// the flow must run against a live service with no workaround (no base URL patched in, no casts):
// register, login, list, count, validate, revoke one, refresh, revoke all, refresh refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import openapiTS, { astToString } from 'openapi-typescript';
import { startApp } from '../../server/test/helpers/app.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');

const flow = `
import createClient from 'openapi-fetch';
import type { paths } from './schema.ts';

const baseUrl = process.env.SESSIOND_URL!;
const client = createClient<paths>({ baseUrl });
const check = (condition: boolean, what: string) => {
  if (!condition) throw new Error('failed: ' + what);
};

const email = 'flow-' + Date.now() + '@example.com';
const password = 'correct horse battery staple';
const registered = await client.POST('/auth/register', { body: { email, password } });
check(registered.response.status === 201 && registered.data !== undefined, 'register');
const first = registered.data!;
check(registered.response.headers.get('x-request-id') !== null, 'X-Request-Id');

const signedIn = await client.POST('/auth/login', { body: { email, password } });
check(signedIn.data !== undefined, 'login');
const second = signedIn.data!;
const auth = { headers: { Authorization: 'Bearer ' + second.accessToken } };

const list = await client.GET('/sessions', { params: { query: { page: 1, limit: 20 } }, ...auth });
check(list.data?.data.length === 2 && list.data.meta.total === 2, 'list');
check(list.data!.data.some((s) => s.id === second.sessionId && s.isCurrent), 'current session marked');

const count = await client.GET('/sessions/count', auth);
check(count.data?.count === 2, 'count');

const valid = await client.GET('/sessions/validate/{sessionId}', { params: { path: { sessionId: first.sessionId } }, ...auth });
check(valid.data?.valid === true && valid.data.sessionId === first.sessionId, 'validate');

const revoked = await client.DELETE('/sessions/{sessionId}', { params: { path: { sessionId: first.sessionId } }, ...auth });
check(revoked.data?.revoked === true, 'revoke one');
const gone = await client.DELETE('/sessions/{sessionId}', { params: { path: { sessionId: first.sessionId } }, ...auth });
check(gone.response.status === 404 && gone.error?.type === 'urn:sessiond:problem:session-not-found', 'revoke again: 404 problem details, typed');

const refreshed = await client.POST('/auth/refresh', { body: { refreshToken: second.refreshToken! } });
check(refreshed.data?.sessionId === second.sessionId, 'refresh');
const fresh = { headers: { Authorization: 'Bearer ' + refreshed.data!.accessToken } };

const all = await client.DELETE('/sessions', { params: { query: { keepCurrent: false } }, ...fresh });
check(all.data?.revokedCount === 1, 'revoke all');

const refused = await client.POST('/auth/refresh', { body: { refreshToken: refreshed.data!.refreshToken! } });
check(refused.response.status === 401 && refused.error?.status === 401, 'refresh after revoke all: 401 problem details');
console.log('flow ok');
`;

test('openapi-typescript + openapi-fetch: a client generated from openapi.json typechecks and runs the whole flow', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-openapi-fetch-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const ast = await openapiTS(new URL(`file://${path.join(root, 'openapi.json')}`));
  fs.writeFileSync(path.join(dir, 'schema.ts'), astToString(ast));
  fs.writeFileSync(path.join(dir, 'flow.ts'), flow);
  const tsconfig = {
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true, lib: ['ES2022', 'DOM'], types: ['node'] },
    include: ['*.ts'],
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const checked = await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).catch((error: { stdout: string }) => error);
  assert.equal(checked.stdout.trim(), '', 'tsc reported errors');

  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(dir, 'flow.ts')], { cwd: dir, env: { ...process.env, SESSIOND_URL: env.url } });
  assert.equal(stdout.trim(), 'flow ok');
});
