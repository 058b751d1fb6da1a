#!/usr/bin/env node
/**
 * The `sessiond` command (the package's bin; `npx sessiond --help` in the repository).
 *
 * Runs the compiled CLI in dist/. In a checkout (src/ present) dist/ is used only when it is the
 * build of the current sources (scripts/build.mjs keeps that fingerprint); otherwise, when tsx is
 * installed (a development install), the sources run through it, so an edited command never runs
 * stale code. An installed tree (the image, `scripts/production-install.sh`) has no src/ and runs
 * dist/ with production dependencies only. Plain JavaScript: it must run before anything is built.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const packageDir = path.resolve(import.meta.dirname, '..');

async function entry() {
  const compiled = path.join(packageDir, 'dist', 'cli.js');
  if (!fs.existsSync(path.join(packageDir, 'src'))) return compiled;
  const { isBuilt } = await import(pathToFileURL(path.resolve(packageDir, '../../scripts/build.mjs')).href);
  if (isBuilt('server')) return compiled;
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    console.error('sessiond: packages/server/dist is missing or older than its sources, and tsx is not installed: run `npm run build`');
    process.exit(1);
  }
  return path.join(packageDir, 'src', 'cli.ts');
}

await import(pathToFileURL(await entry()).href);
