// test-tier: full (PostgreSQL)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { openDatabase } from '../../src/database/database.ts';
import { testConfig } from '../helpers/app.ts';
import { createPostgresDatabase, openBackend } from '../helpers/backends.ts';

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

function tempRoot(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-files-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `fn` with the given umask, restoring the previous one after. */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const previous = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(previous);
  }
}


describe('data files are private (issue 12, item 9)', () => {
  for (const umask of [0o022, 0o002, 0o000]) {
    test(`sqlite, a fresh DATA_DIR, umask ${umask.toString(8).padStart(3, '0')}: folders created 0700, database, -wal, -shm and keys.json 0600`, async (t) => {
      const root = tempRoot(t);
      const dataDir = path.join(root, 'a', 'b', 'data');
      await withUmask(umask, async () => {
        const app = await buildApp(testConfig({ dataDir }));
        t.after(() => app.close());
        const res = await app.inject({ method: 'POST', url: '/auth/register', payload: { email: 'files@example.com', password: 'correct horse battery staple' } });
        assert.equal(res.statusCode, 201, res.body);
        const db = path.join(dataDir, 'sessiond.sqlite');
        const modes = Object.fromEntries([db, `${db}-wal`, `${db}-shm`, path.join(dataDir, 'keys.json')].map((f) => [path.basename(f), modeOf(f)]));
        assert.deepEqual(modes, { 'sessiond.sqlite': 0o600, 'sessiond.sqlite-wal': 0o600, 'sessiond.sqlite-shm': 0o600, 'keys.json': 0o600 });
        for (const dir of [path.join(root, 'a'), path.join(root, 'a', 'b'), dataDir]) assert.equal(modeOf(dir), 0o700, `${dir} is 0700`);
        assert.equal(modeOf(root), 0o700, 'mkdtemp made the root 0700 already: a parent we did not create');
      });
    });
  }

  test('sqlite, an existing folder is left alone, but looser files in it are tightened to 0600', async (t) => {
    const dataDir = path.join(tempRoot(t), 'data');
    fs.mkdirSync(dataDir);
    fs.chmodSync(dataDir, 0o750);
    // An earlier start (before this fix) left world-readable files.
    await withUmask(0o022, async () => {
      const old = openDatabase({ sqliteFile: path.join(dataDir, 'sessiond.sqlite') });
      await old.close();
    });
    const db = path.join(dataDir, 'sessiond.sqlite');
    fs.chmodSync(db, 0o644);
    fs.writeFileSync(`${db}-wal`, '');
    fs.chmodSync(`${db}-wal`, 0o644);
    const app = await buildApp(testConfig({ dataDir }));
    t.after(() => app.close());
    assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    assert.equal(modeOf(dataDir), 0o750, 'the operator-made folder keeps its mode');
    assert.equal(modeOf(db), 0o600);
    assert.equal(modeOf(`${db}-wal`), 0o600);
    assert.equal(modeOf(`${db}-shm`), 0o600);
  });

  test('postgres: the DATA_DIR made for keys.json is 0700, the file 0600', async (t) => {
    // openBackend decides whether PostgreSQL is there (skip outside CI, fail in CI); the app gets its own database.
    if (!(await openBackend(t, 'postgres'))) return;
    const { url, drop } = await createPostgresDatabase();
    const dataDir = path.join(tempRoot(t), 'x', 'data');
    await withUmask(0o022, async () => {
      const app = await buildApp(testConfig({ dataDir, databaseUrl: url }));
      await app.close();
    });
    await drop();
    assert.equal(modeOf(path.join(dataDir, '..')), 0o700);
    assert.equal(modeOf(dataDir), 0o700);
    assert.equal(modeOf(path.join(dataDir, 'keys.json')), 0o600);
    assert.ok(!fs.existsSync(path.join(dataDir, 'sessiond.sqlite')), 'no SQLite file on PostgreSQL');
  });
});
