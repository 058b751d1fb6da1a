import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../helpers/app.ts';
import { generateKeyMaterial } from '../../src/tokens/key-store.ts';

test('the embedded SQLite default syncs every commit (WAL, synchronous=FULL): an acknowledged revocation survives power loss', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-durability-'));
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  // No database passed in: the app opens its own file in DATA_DIR, as `npm start` does.
  const app = await buildApp(testConfig({ dataDir, databaseUrl: undefined }), { keys: generateKeyMaterial(Date.now()) });
  t.after(() => app.close());
  const { db, dialect } = app.sessiond.database;
  assert.equal(dialect, 'sqlite');
  const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(db)).rows[0] as object)[0];
  assert.equal(await pragma('journal_mode'), 'wal');
  assert.equal(await pragma('synchronous'), 2, 'FULL (2), not NORMAL (1)');
  assert.ok(fs.existsSync(path.join(dataDir, 'sessiond.sqlite')));
});
