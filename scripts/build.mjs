#!/usr/bin/env node
/**
 * The production build: compiles what the service runs and what users import, once.
 *
 *   node scripts/build.mjs                          build every target (npm run build)
 *   node scripts/build.mjs server web               build these targets
 *   node scripts/build.mjs --if-stale server web    build only those whose inputs changed (npm start)
 *
 * Targets: `server` (packages/server/dist: JavaScript + declarations, run by `npm start`, the
 * `sessiond` command and the image), `sdk` (packages/sdk/dist) and `web` (the devices page,
 * packages/web/dist, served by the service). Each build leaves a SHA-256 of its inputs (sources,
 * configs, the compiler's locked version) in `dist/.inputs-sha256`; "stale" means that fingerprint
 * differs. Contents, not mtimes: git checkouts reset mtimes. A tree without the sources (an
 * installed tree: the image, scripts/production-install.sh) is taken as built when dist/ exists,
 * so a production start never compiles and never writes outside DATA_DIR.
 *
 * Plain JavaScript with no dependency of its own, so `npm start` can check staleness on a production
 * install; TypeScript and Vite (development dependencies) are loaded only when something is built.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(import.meta.dirname, '..');
const at = (...parts) => path.join(root, ...parts);

/** @type {Record<string, {dist: string, inputs: string[], tool: string, build: () => Promise<void>}>} */
export const targets = {
  sdk: {
    dist: at('packages/sdk/dist'),
    inputs: [at('packages/sdk/src'), at('packages/sdk/tsconfig.build.json'), at('packages/sdk/tsconfig.cjs.json'), at('packages/sdk/scripts'), at('packages/sdk/package.json')],
    tool: 'typescript',
    // The SDK's own build (ES modules and CommonJS, each with declarations), which `npm pack` runs too.
    build: () => runNode(at('packages/sdk/scripts/build.mjs')),
  },
  server: {
    dist: at('packages/server/dist'),
    inputs: [at('packages/server/src'), at('packages/server/tsconfig.build.json'), at('packages/server/package.json'), at('tsconfig.json')],
    tool: 'typescript',
    build: () => tsc('packages/server/tsconfig.build.json'),
  },
  web: {
    dist: at('packages/web/dist'),
    // The page imports the SDK's sources (not its dist), so they are inputs too.
    inputs: [at('packages/web/index.html'), at('packages/web/vite.config.ts'), at('packages/web/package.json'), at('packages/web/src'), at('packages/sdk/src')],
    tool: 'vite',
    build: async () => {
      const vite = await importTool('vite');
      await vite.build({ configFile: at('packages/web/vite.config.ts'), logLevel: 'warn' });
    },
  },
};

const stampName = '.inputs-sha256';

function filesUnder(entry) {
  const stat = fs.statSync(entry, { throwIfNoEntry: false });
  if (!stat) return [];
  if (!stat.isDirectory()) return [entry];
  return fs
    .readdirSync(entry, { withFileTypes: true })
    .flatMap((child) => filesUnder(path.join(entry, child.name)))
    .sort();
}

/** The compiler's version as the lockfile pins it: known without the compiler installed. */
function lockedVersion(name) {
  const lock = JSON.parse(fs.readFileSync(at('package-lock.json'), 'utf8'));
  return lock.packages?.[`node_modules/${name}`]?.version ?? 'unknown';
}

/** Fingerprint of everything a target's build reads. */
export function inputsHash(name) {
  const target = targets[name];
  const hash = crypto.createHash('sha256');
  hash.update(`${target.tool} ${lockedVersion(target.tool)}\n`);
  for (const file of target.inputs.flatMap(filesUnder)) {
    hash.update(`${path.relative(root, file)}\n`);
    hash.update(fs.readFileSync(file));
  }
  return hash.digest('hex');
}

/** True when dist/ holds the build of the current inputs (or, without sources, when it exists). */
export function isBuilt(name) {
  const { dist, inputs } = targets[name];
  const stamp = path.join(dist, stampName);
  if (!fs.existsSync(inputs[0])) return fs.existsSync(dist);
  return fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === inputsHash(name);
}

/**
 * Builds the named targets, or with `ifStale` only those whose dist/ is not the build of their
 * current inputs. Returns what each one did.
 */
export async function ensureBuilt(names, { ifStale = false, quiet = false } = {}) {
  const done = {};
  for (const name of names) {
    if (!targets[name]) throw new Error(`unknown build target: ${name} (known: ${Object.keys(targets).join(', ')})`);
    if (ifStale && isBuilt(name)) {
      done[name] = 'up to date';
      continue;
    }
    // Test files run in parallel processes and each may ask for a build: one builds, the others
    // wait and then find it done (a half-emptied dist/ must never be served).
    const release = await lock(name);
    try {
      if (ifStale && isBuilt(name)) {
        done[name] = 'up to date';
        continue;
      }
      if (!fs.existsSync(targets[name].inputs[0])) throw new Error(`cannot build ${name}: its sources are not in this tree`);
      const started = performance.now();
      // Progress goes to stderr: stdout belongs to the service that `npm start` runs next.
      if (!quiet) console.error(`building ${name} -> ${path.relative(root, targets[name].dist)} …`);
      const hash = inputsHash(name);
      fs.rmSync(targets[name].dist, { recursive: true, force: true }); // no output of a deleted source survives
      await targets[name].build();
      fs.writeFileSync(path.join(targets[name].dist, stampName), hash);
      if (!quiet) console.error(`built ${name} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      done[name] = 'built';
    } finally {
      release();
    }
  }
  return done;
}

/** Resolves a development dependency from the repository root, with a clear message when absent. */
async function importTool(name) {
  try {
    return await import(pathToFileURL(createRequire(at('package.json')).resolve(name)).href);
  } catch (error) {
    if (error?.code !== 'MODULE_NOT_FOUND' && error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(`${name} is not installed (a production install?): run \`npm ci\` with development dependencies, then \`npm run build\``, { cause: error });
  }
}

function runNode(script, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${path.relative(root, script)} failed (${signal ?? `exit ${code}`})`))));
  });
}

async function tsc(project) {
  let bin;
  try {
    bin = createRequire(at('package.json')).resolve('typescript/bin/tsc');
  } catch {
    throw new Error('typescript is not installed (a production install?): run `npm ci` with development dependencies, then `npm run build`');
  }
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '-p', project], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`tsc -p ${project} failed (${signal ?? `exit ${code}`})`))));
  });
}

/** A cross-process lock per target: a directory that only one process can create. */
async function lock(name) {
  const key = crypto.createHash('sha256').update(targets[name].dist).digest('hex').slice(0, 12);
  const lockDir = path.join(os.tmpdir(), `sessiond-build-${name}-${key}.lock`);
  const staleAfterMs = 300_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      return () => fs.rmSync(lockDir, { recursive: true, force: true });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A build that died holding the lock must not block every later one.
      const ageMs = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (ageMs > staleAfterMs) fs.rmSync(lockDir, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const ifStale = args.includes('--if-stale');
  const names = args.filter((a) => !a.startsWith('--'));
  try {
    await ensureBuilt(names.length ? names : Object.keys(targets), { ifStale });
  } catch (error) {
    console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
