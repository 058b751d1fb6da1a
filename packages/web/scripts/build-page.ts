/**
 * Builds the devices page (packages/web/dist) when its inputs changed since the last build, and
 * does nothing otherwise. `npm start` runs it first (the root `prestart`), so a fresh clone serves
 * the page with no extra command; the browser tests call ensurePageBuilt() for the same reason.
 *
 *   node --import tsx packages/web/scripts/build-page.ts [--force]
 *
 * "Changed" is decided by a SHA-256 over the inputs' contents (the page's and the SDK's sources,
 * index.html, the Vite config and version), kept beside the output: git checkouts reset mtimes, so
 * timestamps would rebuild needlessly or, worse, not at all.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import viteConfig from '../vite.config.ts';

export const webDir = path.resolve(import.meta.dirname, '..');
export const distDir = path.join(webDir, 'dist');
const stampFile = path.join(distDir, '.inputs-sha256');
const inputs = [
  path.join(webDir, 'index.html'),
  path.join(webDir, 'vite.config.ts'),
  path.join(webDir, 'package.json'),
  path.join(webDir, 'src'),
  path.resolve(webDir, '../sdk/src'),
];

function filesUnder(entry: string): string[] {
  if (!fs.statSync(entry).isDirectory()) return [entry];
  return fs
    .readdirSync(entry, { withFileTypes: true })
    .flatMap((child) => filesUnder(path.join(entry, child.name)))
    .sort();
}

/** Fingerprint of everything the build reads (and of the Vite that reads it). */
export function inputsHash(): string {
  const hash = crypto.createHash('sha256');
  const viteVersion = (JSON.parse(fs.readFileSync(fileURLToPath(import.meta.resolve('vite/package.json')), 'utf8')) as { version: string }).version;
  hash.update(`vite ${viteVersion}\n`);
  for (const file of inputs.flatMap(filesUnder)) {
    hash.update(`${path.relative(webDir, file)}\n`);
    hash.update(fs.readFileSync(file));
  }
  return hash.digest('hex');
}

function isBuilt(hash: string): boolean {
  return fs.existsSync(path.join(distDir, 'index.html')) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === hash;
}

/** Builds unless dist/ already holds the build of the current inputs. */
export async function ensurePageBuilt(options: { force?: boolean; quiet?: boolean } = {}): Promise<'built' | 'up to date'> {
  const hash = inputsHash();
  if (isBuilt(hash) && !options.force) return 'up to date';
  // Test files run in parallel processes and each may ask for the build: one builds, the others
  // wait and then find it done (a half-emptied dist/ must never be served).
  const release = await lock();
  try {
    if (isBuilt(hash) && !options.force) return 'up to date';
    if (!options.quiet) console.log('Building the devices page (packages/web) …');
    await build({ ...viteConfig, configFile: false, logLevel: options.quiet ? 'warn' : 'info' });
    fs.writeFileSync(stampFile, hash);
    return 'built';
  } finally {
    release();
  }
}

/** A cross-process lock: a directory that only one process can create. */
async function lock(): Promise<() => void> {
  const lockDir = path.join(os.tmpdir(), `sessiond-web-build-${crypto.createHash('sha256').update(webDir).digest('hex').slice(0, 12)}.lock`);
  const staleAfterMs = 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      return () => fs.rmSync(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A build that died holding the lock must not block every later one.
      const ageMs = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (ageMs > staleAfterMs) fs.rmSync(lockDir, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await ensurePageBuilt({ force: process.argv.includes('--force') });
}
