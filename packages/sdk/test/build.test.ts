// The package as consumers get it: `npm run build -w @sessiond/sdk` emits ES modules with
// declarations that load in plain Node (no tsx), and the examples of the docs and README compile
// against the emitted declarations, resolved by package name as an app would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startApp } from '../../server/test/helpers/app.ts';
import { registerUser } from '../../server/test/helpers/http.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');
const sdkDir = path.join(root, 'packages/sdk');
const distIndex = path.join(sdkDir, 'dist/index.js');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('the built package', () => {
  test('npm run build -w @sessiond/sdk emits dist/index.js and dist/index.d.ts', async () => {
    await run(npm, ['run', 'build', '-w', '@sessiond/sdk'], { cwd: root });
    for (const file of ['index.js', 'index.d.ts', 'runtime.js', 'apis/SessionsApi.js', 'models/Session.d.ts']) {
      assert.ok(fs.existsSync(path.join(sdkDir, 'dist', file)), `dist/${file}`);
    }
  });

  test('dist/index.js loads in plain Node and talks to the service', async (t) => {
    // A separate node without tsx: only what was emitted can load.
    const script = `const m = await import(${JSON.stringify(pathToFileURL(distIndex).href)}); console.log(Object.keys(m).sort().join(','));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: os.tmpdir() });
    const exported = stdout.trim().split(',');
    for (const name of ['AuthApi', 'Configuration', 'FetchError', 'RequiredError', 'ResponseError', 'SessionsApi']) {
      assert.ok(exported.includes(name), `${name} in ${stdout}`);
    }

    const sdk = (await import(pathToFileURL(distIndex).href)) as typeof import('../src/index.ts');
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const user = await registerUser(env.http);
    const api = new sdk.SessionsApi(new sdk.Configuration({ basePath: env.url, accessToken: user.accessToken }));
    assert.deepEqual(await api.sessionControllerGetSessionCount(), { count: 1 });
  });

  test('the examples of docs/*.md and README.md compile against the built declarations', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-sdk-docs-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    // The examples import '@sessiond/sdk': resolved through the workspace link, as an app would.
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const sources = ['README.md', ...fs.readdirSync(path.join(sdkDir, 'docs')).map((f) => `docs/${f}`)];
    const examples = sources.flatMap((source) =>
      [...fs.readFileSync(path.join(sdkDir, source), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ name: `${source.replace(/\W/g, '_')}_${i}.ts`, code: m[1]! })),
    );
    assert.ok(examples.length >= 11, `found ${examples.length} examples`);
    for (const example of examples) fs.writeFileSync(path.join(dir, example.name), example.code);
    const tsconfig = {
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, lib: ['ES2022', 'DOM'], types: [] },
      include: ['*.ts'],
    };
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).catch((error: { stdout: string }) => error);
    assert.equal(result.stdout.trim(), '', 'tsc reported errors');
  });
});
