#!/usr/bin/env node
// Builds the publishable package: ES modules in dist/esm, CommonJS in dist/cjs (marked by its own
// package.json), each with type declarations. `node scripts/build.mjs [outDir]` (default dist); the
// tests build into a temporary folder, never the checkout.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const dir = path.resolve(import.meta.dirname, '..');
const outDir = path.resolve(dir, process.argv[2] ?? 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

fs.rmSync(outDir, { recursive: true, force: true });
for (const [config, format] of [['tsconfig.build.json', 'esm'], ['tsconfig.cjs.json', 'cjs']]) {
  execFileSync(process.execPath, [tsc, '-p', config, '--outDir', path.join(outDir, format)], { cwd: dir, stdio: 'inherit' });
}
fs.writeFileSync(path.join(outDir, 'cjs/package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
