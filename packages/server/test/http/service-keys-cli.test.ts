// test-tier: full (PostgreSQL, CLI processes)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { openDatabase } from '../../src/database/database.ts';
import { createKyselyServiceKeyStore } from '../../src/service-keys/kysely-service-key-store.ts';
import { backendNames, createPostgresDatabase, openBackend } from '../helpers/backends.ts';

const run = promisify(execFile);
const cli = path.resolve(import.meta.dirname, '../../src/cli.ts');

/** Runs `sessiond <args>` as a real process; resolves with its exit code and output. */
async function sessiond(env: Record<string, string>, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', cli, ...args], { env: { ...process.env, ...env, LOG_LEVEL: 'silent' }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function environment(t: TestContext, backend: 'sqlite' | 'postgres'): Promise<Record<string, string> | undefined> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-cli-'));
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  if (backend === 'sqlite') return { DATA_DIR: dataDir };
  const probe = await openBackend(t, 'postgres'); // skips (outside CI) or fails (in CI) when unreachable
  if (!probe) return undefined;
  const { url, drop } = await createPostgresDatabase();
  t.after(drop);
  return { DATA_DIR: dataDir, DATABASE_URL: url };
}

for (const backend of backendNames) {
  describe(`sessiond service-keys (${backend})`, () => {
    test('create prints the secret as its last line; list; revoke; bad arguments exit 2', async (t) => {
      const env = await environment(t, backend);
      if (!env) return;
      const created = await sessiond(env, 'service-keys', 'create', 'billing-backend', '--scope', 'sessions:issue');
      assert.equal(created.code, 0, created.stderr);
      const lines = created.stdout.trim().split('\n');
      const secret = lines.at(-1)!;
      assert.match(secret, /^sdk_svc_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
      assert.match(created.stdout, /scopes: sessions:issue/);
      const reader = await sessiond(env, 'service-keys', 'create', 'verifier');
      assert.match(reader.stdout, /scopes: revocations:read/, 'revocations:read by default');

      // The key works against the same database.
      const database = openDatabase(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : { sqliteFile: path.join(env.DATA_DIR!, 'sessiond.sqlite') });
      t.after(() => database.close());
      const key = await createKyselyServiceKeyStore(database.db).verify(secret);
      assert.deepEqual([key?.name, key?.scopes], ['billing-backend', ['sessions:issue']]);

      const listed = await sessiond(env, 'service-keys', 'list');
      assert.equal(listed.code, 0);
      assert.match(listed.stdout, new RegExp(`^${key!.id}  active .*sessions:issue  billing-backend$`, 'm'));
      assert.ok(!listed.stdout.includes(secret.split('.')[1]!), 'list never shows a secret');

      assert.equal((await sessiond(env, 'service-keys', 'revoke', key!.id)).code, 0);
      assert.equal((await sessiond(env, 'service-keys', 'revoke', key!.id)).code, 1, 'already revoked');
      assert.equal(await createKyselyServiceKeyStore(database.db).verify(secret), undefined);

      for (const args of [['create'], ['create', 'x', '--scope', 'admin'], ['create', 'a', 'b'], ['revoke'], ['bogus'], ['create', 'x', '--bogus']]) {
        const res = await sessiond(env, 'service-keys', ...args);
        assert.equal(res.code, 2, `service-keys ${args.join(' ')}: ${res.stdout}${res.stderr}`);
      }
      const help = await sessiond(env, 'service-keys', '--help');
      assert.equal(help.code, 0);
      assert.match(help.stdout, /--scope sessions:issue/);
    });
  });
}
