#!/usr/bin/env node
// Installs the benchmark's own dependencies (bench/package.json: autocannon, fast-jwt, better-auth)
// with `npm ci --prefix bench` when they are missing or older than bench/package-lock.json. They are
// not root workspaces on purpose: `npm ci` at the root, and so CI and `npm test`, never install them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const bench = import.meta.dirname;
const lock = path.join(bench, 'package-lock.json');
const installed = path.join(bench, 'node_modules', '.package-lock.json');
const fresh = fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs;
if (!fresh) {
  console.error('installing the benchmark dependencies: npm ci --prefix bench');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--prefix', bench, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
