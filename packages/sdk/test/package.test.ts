// test-tier: full (npm pack and install, minutes)
// The package as consumers get it, built and installed in a temporary folder (never the checkout):
// a copy of packages/sdk is packed with `npm pack` (its prepack builds dist/esm and dist/cjs), the
// tarball is installed offline into a scratch project, and there
// - the five examples of shared/spec/SessionsApi.md run against a live service, from `import` and
//   from `require`, in plain Node (no tsx);
// - the examples of the SDK's README.md and docs/*.md, and a CommonJS TypeScript file, compile
//   against the installed declarations.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { login, registerUser } from '../../server/test/helpers/http.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');
const sdkDir = path.join(root, 'packages/sdk');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The five examples of the specification, as they are but for the import (IMPORT), the basePath and
 * real values for the placeholders; each prints one JSON line of what it received.
 */
const examples = `
const report = (name, data) => process.stdout.write(JSON.stringify({ name, data }) + '\\n');
async function main() {
  const basePath = process.env.SESSIOND_URL;
  const config = new Configuration({ basePath, accessToken: process.env.FIRST_TOKEN });
  const api = new SessionsApi(config);
  report('list', await api.sessionControllerGetActiveSessions({ currentSessionId: process.env.SECOND_SESSION, page: '1', limit: '20' }));
  report('count', await api.sessionControllerGetSessionCount());
  report('validate', await api.sessionControllerValidateSession({ sessionId: process.env.SECOND_SESSION }));
  report('revoke', await api.sessionControllerRevokeSession({ sessionId: process.env.SECOND_SESSION }));
  report('revokeAll', await api.sessionControllerRevokeAllSessions());
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

test('npm pack -> install the tarball -> the specification examples run from import and require; the docs compile', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-sdk-pack-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // The copy finds typescript (for its build) in the checkout's node_modules, one level up.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const copy = path.join(dir, 'sdk');
  fs.cpSync(sdkDir, copy, { recursive: true, filter: (source) => !/[/\\](dist|test|node_modules)$/.test(source) });

  const manifest = JSON.parse(fs.readFileSync(path.join(copy, 'package.json'), 'utf8')) as Record<string, any>;
  assert.equal(manifest.private, undefined, 'publishable: not private');
  assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
  assert.equal(manifest.dependencies, undefined, 'no runtime dependencies');
  assert.ok(manifest.exports['.'].import.types && manifest.exports['.'].require.types, 'exports: ESM and CommonJS, each with types');
  assert.ok(fs.readFileSync(path.join(copy, 'CHANGELOG.md'), 'utf8').includes(`## ${manifest.version}`), 'CHANGELOG has this version');

  const packed = await run(npm, ['pack', '--json', '--pack-destination', dir], { cwd: copy, maxBuffer: 16 << 20 });
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = info!.files.map((f) => f.path);
  for (const expected of ['package.json', 'README.md', 'CHANGELOG.md', 'docs/SessionsApi.md', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json']) {
    assert.ok(files.includes(expected), `${expected} in the tarball`);
  }
  assert.deepEqual(files.filter((f) => f.startsWith('src/') || f.startsWith('test/')), [], 'no sources or tests in the tarball');

  const app = path.join(dir, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  await run(npm, ['install', '--offline', '--no-audit', '--no-fund', path.join(dir, info!.filename)], { cwd: app });
  assert.ok(fs.existsSync(path.join(app, 'node_modules/@sessiond/sdk/dist/cjs/index.js')));

  fs.writeFileSync(path.join(app, 'esm.mjs'), `import { Configuration, SessionsApi } from '@sessiond/sdk';\n${examples}`);
  fs.writeFileSync(path.join(app, 'cjs.cjs'), `const { Configuration, SessionsApi } = require('@sessiond/sdk');\n${examples}`);

  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  for (const script of ['esm.mjs', 'cjs.cjs']) {
    const first = await registerUser(env.http);
    const second = await login(env.http, first);
    const runEnv: NodeJS.ProcessEnv = { ...process.env, SESSIOND_URL: env.url, FIRST_TOKEN: first.accessToken, SECOND_SESSION: second.sessionId };
    const { stdout }: { stdout: string } = await run(process.execPath, [script], { cwd: app, env: runEnv });
    const lines: Array<{ name: string; data: any }> = stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; data: any });
    assert.deepEqual(lines.map((l) => l.name), ['list', 'count', 'validate', 'revoke', 'revokeAll'], script);
    const [list, count, validate, revoke, revokeAll] = lines.map((l) => l.data);
    assert.equal(list.meta.total, 2, script);
    assert.equal(list.data.find((s: { isCurrent: boolean }) => s.isCurrent).id, second.sessionId, script);
    assert.deepEqual(count, { count: 2 }, script);
    assert.equal(validate.valid, true, script);
    assert.deepEqual(revoke, { sessionId: second.sessionId, revoked: true }, script);
    assert.deepEqual(revokeAll, { revokedCount: 1 }, script);
  }

  // The docs' examples and a CommonJS TypeScript file typecheck against the installed declarations.
  const docs = ['README.md', ...fs.readdirSync(path.join(sdkDir, 'docs')).map((f) => `docs/${f}`)];
  const snippets = docs.flatMap((source) =>
    [...fs.readFileSync(path.join(sdkDir, source), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ name: `${source.replace(/\W/g, '_')}_${i}.ts`, code: m[1]! })),
  );
  assert.ok(snippets.length >= 11, `found ${snippets.length} examples`);
  for (const snippet of snippets) fs.writeFileSync(path.join(app, snippet.name), snippet.code);
  fs.writeFileSync(path.join(app, 'require.cts'), [
    "import { Configuration, SessionsApi, SessionFromJSON, type Session } from '@sessiond/sdk';",
    "const api = new SessionsApi(new Configuration({ basePath: 'http://127.0.0.1:3000' }));",
    "const session: Session = SessionFromJSON({});",
    'export { api, session };',
  ].join('\n'));
  const tsconfig = {
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, lib: ['ES2022', 'DOM'], types: [] },
    include: ['*.ts', '*.cts'],
  };
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const checked = await run(process.execPath, [tsc, '-p', app], { cwd: app }).catch((error: { stdout: string }) => error);
  assert.equal(checked.stdout.trim(), '', 'tsc reported errors');
});
