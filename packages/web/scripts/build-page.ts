/**
 * The devices page's build, for the browser tests and anyone importing it from TypeScript: builds
 * packages/web/dist when its inputs changed since the last build, and does nothing otherwise.
 * The build itself, its fingerprint and its cross-process lock live in scripts/build.mjs (target
 * `web`), which `npm run build` and `npm start` use too.
 */
import path from 'node:path';
import { ensureBuilt } from '../../../scripts/build.mjs';

export const webDir = path.resolve(import.meta.dirname, '..');
export const distDir = path.join(webDir, 'dist');

/** Builds unless dist/ already holds the build of the current inputs. */
export async function ensurePageBuilt(options: { force?: boolean; quiet?: boolean } = {}): Promise<'built' | 'up to date'> {
  const done = await ensureBuilt(['web'], { ifStale: !options.force, quiet: options.quiet ?? false });
  return done.web!;
}
