// docs/ARCHITECTURE.md is the map a newcomer reads first: it must name every source file, so it
// cannot quietly fall behind the code. And a comment pointing at a contract test must point at one
// that exists.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../../../..');
const doc = fs.readFileSync(path.join(root, 'docs/ARCHITECTURE.md'), 'utf8');

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

const sources = fs.readdirSync(path.join(root, 'packages')).flatMap((pkg) => filesUnder(path.join(root, 'packages', pkg, 'src')));

test('"The parts" names every source file (by its name, or its folder as `folder/*`)', () => {
  const start = doc.indexOf('## The parts');
  const end = doc.indexOf('\n## ', start + 1);
  assert.ok(start >= 0 && end > start, 'ARCHITECTURE.md has a "## The parts" section');
  const parts = doc.slice(start, end);
  const named = new Set(parts.match(/[\w.-]+\.(?:ts|css)\b/g));
  const wholeFolders = new Set([...parts.matchAll(/([\w-]+)\/\*/g)].map((m) => m[1]));
  const missing = sources
    .map((file) => path.relative(root, file))
    .filter((file) => !named.has(path.basename(file)) && !file.split(path.sep).slice(3, -1).some((folder) => wholeFolders.has(folder)));
  assert.deepEqual(missing, [], 'source files docs/ARCHITECTURE.md does not mention in "The parts": add each with its role');
});

test('every contract test a source comment points to exists', () => {
  const pointers = sources.flatMap((file) => [...fs.readFileSync(file, 'utf8').matchAll(/test\/contracts\/[\w.-]+\.ts/g)].map((m) => ({ file, target: m[0] })));
  assert.ok(pointers.length > 0, 'the store interfaces point to their contracts');
  for (const { file, target } of pointers) {
    assert.ok(fs.existsSync(path.join(root, 'packages/server', target)), `${path.relative(root, file)} points to ${target}, which does not exist`);
  }
});
