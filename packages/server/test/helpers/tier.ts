import fs from 'node:fs';
import path from 'node:path';
import { FULL_TIER_MARKER, tierOf } from '../../../../scripts/test-tier.mjs';

/**
 * The check that keeps the two test tiers true (scripts/run-tests.mjs): PostgreSQL, Redis and
 * Chromium belong to the full tier only. A test file of the fast tier (no `// test-tier: full`
 * line) that reaches for one fails at once, in both tiers, naming the line to add.
 */
export function requireFullTier(what: string): void {
  const file = process.argv[1];
  // Only a test file run by node:test is classified; anything else (a script) is not checked.
  if (!file?.endsWith('.test.ts')) return;
  if (tierOf(fs.readFileSync(file, 'utf8')) === 'full') return;
  throw new Error(`${path.relative(process.cwd(), file)} needs ${what}, which only the full test tier has: start the file with \`${FULL_TIER_MARKER} (${what})\``);
}

/** True in `npm run test:fast`: suites run their SQLite half only. */
export const fastTier = process.env.SESSIOND_TEST_TIER === 'fast';
