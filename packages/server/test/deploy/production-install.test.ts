// test-tier: full (a production install from a fresh copy, minutes)
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isRunning, processTree, startCommandProcess, waitUntil } from '../helpers/processes.ts';
import { registerUser } from '../helpers/http.ts';

const root = path.resolve(import.meta.dirname, '../../../..');

/** A fresh copy of the repository: what a clone holds (tracked and new files), nothing ignored. */
function freshCopy(dest: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    const from = path.join(root, file);
    if (!fs.existsSync(from)) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(dest, file)), { recursive: true });
    fs.copyFileSync(from, path.join(dest, file)); // keeps the mode: the script stays executable
  }
}

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024, timeout: 420_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Path, size and mtime of every entry: proves the service wrote nothing into its own tree. */
function treeState(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => {
      const full = path.join(e.parentPath, e.name);
      const stat = fs.lstatSync(full);
      return `${path.relative(dir, full)} ${stat.size} ${stat.mtimeMs}`;
    })
    .sort();
}

// The Dockerfile's steps without Docker (base images cannot be pulled here): from a fresh copy,
// scripts/production-install.sh builds and installs production dependencies only into a separate
// tree; that tree is made read-only and started as an unprivileged user with DATA_DIR elsewhere,
// as the image runs it (`docker run --read-only`, USER node).
// Longer than the 60 s default: copying, `npm ci --omit=dev` and a build take 2-4 minutes.
test('production install: built from a fresh copy, production dependencies only, read-only tree, serves, SIGTERM exits 0', { timeout: 600_000 }, async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-prod-'));
  t.after(() => {
    execFileSync('chmod', ['-R', 'u+w', work]);
    fs.rmSync(work, { recursive: true, force: true });
  });
  const src = path.join(work, 'src');
  const app = path.join(work, 'app');
  freshCopy(src);

  const started = performance.now();
  const install = await run('bash', ['scripts/production-install.sh', app], { cwd: src, env: { SESSIOND_NATIVE_FROM: root } });
  const installSeconds = (performance.now() - started) / 1000;
  assert.equal(install.code, 0, `production-install.sh failed:\n${install.output.slice(-4000)}`);
  assert.doesNotMatch(install.output, /EBADENGINE/, 'every locked package accepts this Node version');
  t.diagnostic(`fresh copy -> build -> production install: ${installSeconds.toFixed(0)} s`);

  // What the README's first command relies on: after a build, `npm start`'s stale check finds
  // nothing to do (and quickly); an edited source makes it stale again.
  const check = performance.now();
  const upToDate = await run(process.execPath, ['scripts/build.mjs', '--if-stale', 'server', 'web'], { cwd: src });
  const checkMs = performance.now() - check;
  assert.equal(upToDate.code, 0, upToDate.output);
  assert.doesNotMatch(upToDate.output, /building/, 'nothing rebuilt when nothing changed');
  t.diagnostic(`npm start's stale check with nothing changed: ${checkMs.toFixed(0)} ms (node start included)`);

  // The README's first command on that copy, with the page's build missing: `npm start` builds it
  // (and only it), then serves it; SIGTERM to npm ends it all with exit 0.
  fs.rmSync(path.join(src, 'packages/web/dist'), { recursive: true });
  const devDataDir = path.join(work, 'dev-data');
  const dev = await startCommandProcess(t, { command: 'npm', args: ['start'], cwd: src, env: { DATA_DIR: devDataDir } });
  assert.match(dev.output(), /building web/);
  assert.doesNotMatch(dev.output(), /building server/);
  assert.match((await dev.http.get('/')).text, /<script type="module"/i);
  const devExited = new Promise<number | null>((resolve) => dev.child.once('exit', (code) => resolve(code)));
  dev.child.kill('SIGTERM');
  assert.equal(await devExited, 0, dev.output());

  fs.appendFileSync(path.join(src, 'packages/server/src/clock.ts'), '\n// edited\n');
  const stale = await run(process.execPath, ['--input-type=module', '-e', "const m = await import('./scripts/build.mjs'); console.log(m.isBuilt('server'), m.isBuilt('web'))"], { cwd: src });
  assert.equal(stale.output.trim(), 'false true', 'an edited server source makes the server (only) stale');

  // Production dependencies only, compiled code only.
  for (const dev of ['typescript', 'tsx', 'vite', '@types/node', 'playwright-core']) {
    assert.equal(fs.existsSync(path.join(app, 'node_modules', dev)), false, `${dev} (a development dependency) is not installed`);
  }
  for (const runtime of ['fastify', 'better-sqlite3', 'pino', 'kysely']) assert.ok(fs.existsSync(path.join(app, 'node_modules', runtime)), runtime);
  assert.equal(fs.existsSync(path.join(app, 'packages/server/src')), false, 'no sources in the installed tree');
  assert.ok(fs.existsSync(path.join(app, 'packages/server/dist/database/migrations/index.js')), 'compiled migrations');
  assert.ok(fs.existsSync(path.join(app, 'packages/web/dist/index.html')), 'the prebuilt devices page');

  // Read-only, and run by someone who does not own it.
  execFileSync('chmod', ['-R', 'a-w', app]);
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(dataDir);
  // Root ignores file modes: run as nobody, when nobody can run this node at all (not, say, one
  // installed under /root); otherwise say that the read-only check was weaker.
  const canRunAsNobody = () => {
    try {
      execFileSync(process.execPath, ['-e', '0'], { uid: 65534, gid: 65534, stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const asRoot = process.getuid?.() === 0 && canRunAsNobody();
  if (process.getuid?.() === 0 && !asRoot) t.diagnostic('node is not executable by uid 65534: the installed tree runs as root, so chmod a-w does not stop writes; the tree comparison below still does');
  const user = asRoot ? { uid: 65534, gid: 65534 } : {};
  if (asRoot) {
    fs.chmodSync(work, 0o755);
    fs.chownSync(dataDir, 65534, 65534);
  }
  const before = treeState(app);
  const svc = await startCommandProcess(t, {
    command: process.execPath,
    args: [path.join(app, 'packages/server/bin/sessiond.js'), 'serve'],
    cwd: app,
    // HOME and TMPDIR inside the read-only tree: a write to either would fail the start or a request.
    env: { DATA_DIR: dataDir, HOME: app, TMPDIR: app, NODE_OPTIONS: '' },
    ...user,
  });

  const page = await svc.http.get('/');
  assert.equal(page.status, 200);
  assert.match(page.text, /<script type="module"/i, 'the built devices page, not the "not built yet" notice');
  const docs = await fetch(`${svc.url}/docs`);
  assert.equal(docs.status, 200);
  assert.match(await docs.text(), /swagger/i);
  assert.equal((await svc.http.get('/ready')).status, 200);
  const signedUp = await registerUser(svc.http);
  const signedIn = await svc.http.post('/auth/login', { email: signedUp.email, password: signedUp.password });
  assert.equal(signedIn.status, 200, signedIn.text);
  const checked = await svc.http.get(`/sessions/validate/${signedIn.body.sessionId}`, { token: signedIn.body.accessToken });
  assert.equal(checked.status, 200, checked.text);
  assert.equal(checked.body.valid, true);
  assert.equal((await svc.http.get('/auth/me', { token: signedIn.body.accessToken })).status, 200);

  const tree = [svc.child.pid!, ...processTree(svc.child.pid!)];
  const exited = new Promise<number | null>((resolve) => svc.child.once('exit', (code) => resolve(code)));
  svc.child.kill('SIGTERM');
  assert.equal(await exited, 0, `SIGTERM: exit 0; output:\n${svc.output()}`);
  await waitUntil(async () => tree.every((pid) => !isRunning(pid)), 5_000);
  assert.deepEqual(tree.filter(isRunning), []);
  assert.deepEqual(treeState(app), before, 'nothing was written into the installed tree');
  assert.ok(fs.existsSync(path.join(dataDir, 'sessiond.sqlite')) && fs.existsSync(path.join(dataDir, 'keys.json')), 'state lives in DATA_DIR');
});
