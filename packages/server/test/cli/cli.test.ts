// test-tier: full (builds the server, runs the CLI as processes)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ensureBuilt } from '../../../../scripts/build.mjs';

const root = path.resolve(import.meta.dirname, '../../../..');
const bin = path.join(root, 'packages/server/bin/sessiond.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `sessiond` command as a user does (the package's bin), with DATA_DIR set. */
function sessiond(args: string[], env: Record<string, string>, file = process.execPath, prefix = [bin]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, [...prefix, ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** Every file under dir with the SHA-256 of its bytes: "changes nothing" compared byte for byte. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return out;
}

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return results;
}

function tempDataDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Help for every command and subcommand, asked every way: each must print its help, exit 0, and
// change nothing (`keys rotate --help` used to rotate the key, `admin-keys create --help` created a
// key named --help).
const helpRequests = [
  ['--help'], ['-h'], ['help'], ['help', 'keys'], ['help', 'admin-keys', 'create'],
  ['serve', '--help'], ['serve', '-h'],
  ['migrate', '--help'], ['migrate', '--status', '-h'],
  ['keys', '--help'], ['keys', '-h'], ['keys', 'list', '--help'], ['keys', 'rotate', '--help'], ['keys', 'rotate', '-h'],
  ['purge', '--help'], ['purge', '--batch-size', '10', '--help'],
  ['revoke-user', '--help'], ['revoke-user', 'ada@example.com', '--help'], ['revoke-user', '-h', 'ada@example.com'],
  ['admin-keys', '--help'], ['admin-keys', 'create', '--help'], ['admin-keys', 'create', 'ops', '-h'], ['admin-keys', 'create', '--help', 'ops'],
  ['admin-keys', 'list', '--help'], ['admin-keys', 'revoke', '--help'], ['admin-keys', 'revoke', 'some-id', '-h'],
  ['config', '--help'], ['config', '-h'],
];

describe('the sessiond command', () => {
  // The bin runs dist/ when it is the build of the current sources: build once, so every run below
  // exercises the compiled CLI, as an installed one would.
  // Longer than the 60 s default: a cold compile of the server takes minutes on a loaded machine.
  before(() => ensureBuilt(['server'], { ifStale: true, quiet: true }), { timeout: 240_000 });

  test('npx sessiond --help works from the repository root (the workspace bin is linked)', { timeout: 60_000 }, async () => {
    const run = await sessiond(['--help'], {}, 'npx', ['--no-install', 'sessiond']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: sessiond <command>/);
    for (const command of ['serve', 'migrate', 'keys list', 'keys rotate', 'purge', 'revoke-user', 'admin-keys create', 'admin-keys list', 'admin-keys revoke', 'config']) {
      assert.ok(run.stdout.includes(`\n  ${command}`), `the help lists ${command}`);
    }
  });

  // Longer than the 60 s default: one CLI process per command and flag, each a Node start.
  test('--help / -h on every command and subcommand prints its help, exits 0 and changes nothing', { timeout: 240_000 }, async (t) => {
    const dataDir = tempDataDir(t);
    const env = { DATA_DIR: dataDir };
    // A deployment with state: a migrated database, a key file, an admin key.
    assert.equal((await sessiond(['migrate'], env)).code, 0);
    const seeded = await sessiond(['admin-keys', 'create', 'seed'], env);
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.ok(fs.existsSync(path.join(dataDir, 'keys.json')));
    const before = snapshot(dataDir);

    const runs = await inBatches(helpRequests, 4, async (args) => ({ args, run: await sessiond(args, env) }));
    for (const { args, run } of runs) {
      const line = `sessiond ${args.join(' ')}`;
      assert.equal(run.code, 0, `${line}: exit ${run.code}, stderr: ${run.stderr}`);
      assert.match(run.stdout, /^Usage: sessiond /, `${line} prints a help`);
      assert.equal(run.stderr, '', `${line} writes nothing to stderr`);
    }
    assert.deepEqual(snapshot(dataDir), before, 'no file in DATA_DIR changed: no key rotated, no admin key created, no database write');
    const list = await sessiond(['admin-keys', 'list'], env);
    assert.equal(list.stdout.trim().split('\n').length, 1, `only the seeded admin key exists:\n${list.stdout}`);

    // On a machine with nothing yet, help creates nothing either.
    const empty = path.join(tempDataDir(t), 'data');
    for (const args of [['keys', 'rotate', '--help'], ['admin-keys', 'create', '--help'], ['migrate', '-h']]) {
      assert.equal((await sessiond(args, { DATA_DIR: empty })).code, 0);
    }
    assert.equal(fs.existsSync(empty), false, 'DATA_DIR was not even created');
  });

  // Longer than the 60 s default: one CLI process per case, each a Node start.
  test('unknown commands, unknown flags and wrong arguments exit 2 with one line, and do nothing', { timeout: 240_000 }, async (t) => {
    const dataDir = tempDataDir(t);
    const env = { DATA_DIR: dataDir };
    assert.equal((await sessiond(['keys', 'list'], env)).code, 0);
    const before = snapshot(dataDir);
    const bad: [string[], RegExp][] = [
      [['bogus'], /unknown command 'bogus'/],
      [['--bogus'], /unknown option '--bogus'/],
      [['keys'], /needs a subcommand/],
      [['keys', 'bogus'], /unknown command 'keys bogus'/],
      [['keys', 'rotate', '--bogus'], /Unknown option '--bogus'/],
      [['keys', 'rotate', 'extra'], /unexpected argument 'extra'/],
      [['migrate', '--status=yes'], /--status/],
      [['purge', '--batch-size'], /--batch-size/],
      [['purge', '--batch-size', '0'], /--batch-size must be an integer/],
      [['revoke-user'], /missing <email\|user-id>/],
      [['revoke-user', 'a@example.com', 'b@example.com'], /unexpected argument/],
      [['admin-keys', 'create'], /missing <name>/],
      [['admin-keys', 'revoke'], /missing <id>/],
      [['admin-keys', 'create', 'ops', '--force'], /Unknown option '--force'/],
      [['serve', '--port', '1'], /Unknown option '--port'/],
      [['help', 'bogus'], /unknown command 'bogus'/],
    ];
    const runs = await inBatches(bad, 4, async ([args, reason]) => ({ args, reason, run: await sessiond(args, env) }));
    for (const { args, reason, run } of runs) {
      const line = `sessiond ${args.join(' ')}`;
      assert.equal(run.code, 2, `${line}: exit ${run.code}`);
      assert.equal(run.stdout, '', `${line} prints nothing on stdout`);
      assert.equal(run.stderr.trimEnd().split('\n').length, 1, `${line}: one line, got:\n${run.stderr}`);
      assert.match(run.stderr, reason, line);
    }
    // No command at all: the usage, on stderr, exit 2.
    const none = await sessiond([], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^Usage: sessiond/);
    assert.deepEqual(snapshot(dataDir), before);
  });

  // Longer than the 60 s default: a dozen CLI processes, and `npm run cli` through npm.
  test('the commands still act: rotate, admin keys, a bad configuration exits 2, npm run cli -- is the same command', { timeout: 240_000 }, async (t) => {
    const dataDir = tempDataDir(t);
    const env = { DATA_DIR: dataDir };
    const listed = await sessiond(['keys', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const keysBefore = fs.readFileSync(path.join(dataDir, 'keys.json'), 'utf8');
    const rotated = await sessiond(['keys', 'rotate'], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /new signing key/);
    assert.notEqual(fs.readFileSync(path.join(dataDir, 'keys.json'), 'utf8'), keysBefore);

    const created = await sessiond(['admin-keys', 'create', 'ops'], env);
    assert.equal(created.code, 0, created.stderr);
    const id = /created admin key (\S+) \(ops\)/.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);
    assert.equal((await sessiond(['admin-keys', 'revoke', id], env)).code, 0);
    assert.equal((await sessiond(['admin-keys', 'revoke', id], env)).code, 1, 'revoking it again fails: exit 1');

    const badConfig = await sessiond(['config'], { ...env, LOG_LEVEL: 'loud' });
    assert.equal(badConfig.code, 2);
    assert.match(badConfig.stderr, /LOG_LEVEL/);

    const viaNpm = await sessiond(['run', '-s', 'cli', '--', 'admin-keys', 'list'], env, 'npm', []);
    assert.equal(viaNpm.code, 0, viaNpm.stderr);
    assert.match(viaNpm.stdout, new RegExp(`${id}\\s+revoked`));
  });
});
