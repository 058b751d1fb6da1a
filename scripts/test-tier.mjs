// How the tests are run, defined once for scripts/run-tests.mjs, its preload (test-timeout.mjs) and
// the test helpers: which tier a file belongs to, and the timeouts.

/** Every test's timeout unless it sets its own (scripts/test-timeout.mjs). */
export const TEST_TIMEOUT_MS = 60_000;

/**
 * The whole file's backstop (`--test-timeout`, enforced by the parent process): catches what no
 * per-test timeout covers, such as a top-level before() hook that never returns. Above the longest
 * explicit test timeout (the production-install test's).
 */
export const FILE_TIMEOUT_MS = 900_000;

// Which tier a test file belongs to: 'full' when one of its first lines is `// test-tier: full (why)`,
// else 'fast'.

/** The marker a full-tier file carries (with its reason after it). */
export const FULL_TIER_MARKER = '// test-tier: full';

/** @param {string} source the test file's text */
export function tierOf(source) {
  const head = source.split('\n', 15);
  return head.some((line) => line.startsWith(FULL_TIER_MARKER)) ? 'full' : 'fast';
}
