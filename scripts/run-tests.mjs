#!/usr/bin/env node
// Runs the *.test.ts files under packages/*/test with node's own test runner (through tsx), so the
// totals CI reads are node:test's.
//
//   node scripts/run-tests.mjs              the full tier (npm test, CI): every file, every backend
//   node scripts/run-tests.mjs --fast       the fast tier (npm run test:fast): SQLite only, no
//                                           PostgreSQL, Redis, Chromium or other slow set-up
//   node scripts/run-tests.mjs sessions     only files whose path contains "sessions" (either tier)
//
// Tiers are read from the files, not from a list here: a file belongs to the full tier when one of
// its first lines is a `// test-tier: full (reason)` comment; every other file is in the fast tier,
// where its suites run on SQLite only (SESSIOND_TEST_TIER=fast: helpers/backends.ts leaves PostgreSQL
// out of backendNames). A fast-tier file that reaches for PostgreSQL, Redis or Chromium all the same
// fails at once, naming the marker to add (helpers/tier.ts): the tier cannot silently be wrong.
//
// Timeouts: every test gets TEST_TIMEOUT_MS (60 s) unless it sets its own (scripts/test-timeout.mjs,
// preloaded); each whole file is bounded by FILE_TIMEOUT_MS (scripts/test-tier.mjs).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FILE_TIMEOUT_MS, FULL_TIER_MARKER, tierOf } from './test-tier.mjs';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const fast = args.includes('--fast');
const filters = args.filter((a) => a !== '--fast');

function walk(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') walk(full, out);
    } else if (entry.name.endsWith('.test.ts')) {
      out.push(path.relative(root, full));
    }
  }
  return out;
}

const files = fs
  .readdirSync(path.join(root, 'packages'))
  .flatMap((pkg) => {
    const testDir = path.join(root, 'packages', pkg, 'test');
    return fs.existsSync(testDir) ? walk(testDir, []) : [];
  })
  .filter((f) => !fast || tierOf(fs.readFileSync(path.join(root, f), 'utf8')) === 'fast')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// The helpers' check (helpers/tier.ts) covers PostgreSQL, Redis and Chromium reached through them;
// this covers a fast-tier file that imports their clients itself.
const serviceClients = /from '(pg|ioredis|playwright-core)'/;
const misplaced = files.filter((f) => {
  const source = fs.readFileSync(path.join(root, f), 'utf8');
  return tierOf(source) === 'fast' && serviceClients.test(source);
});
if (misplaced.length > 0) {
  console.error(`fast-tier test files that import a PostgreSQL, Redis or Chromium client; add a \`${FULL_TIER_MARKER} (why)\` line:\n  ${misplaced.join('\n  ')}`);
  process.exit(1);
}

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(
  process.execPath,
  [
    // --expose-internals: scripts/test-timeout.mjs sets the per-test default through node:test's internals.
    '--expose-internals',
    '--import',
    'tsx',
    '--import',
    './scripts/test-timeout.mjs',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${FILE_TIMEOUT_MS}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, SESSIOND_TEST_TIER: fast ? 'fast' : 'full' } },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
