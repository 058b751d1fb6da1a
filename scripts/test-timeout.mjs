// Preloaded into every test file's process by scripts/run-tests.mjs: a per-test timeout of
// TEST_TIMEOUT_MS, so a hang fails in a minute, naming its test, instead of holding the run.
//
// Why here: on Node 20, `node --test --test-timeout=N` bounds each *file* (the parent kills it
// after N ms), not each test; inside the file's process a test without its own `timeout` waits
// forever. There is no public way to set a per-test default, so this sets it on every test as it is
// created (node:test's Test#createSubtest, reached through --expose-internals, which run-tests.mjs
// passes). Patching creation, not the exported test(), keeps each test's reported location.
//
// The rules: a test or suite with its own `timeout` keeps it, and what is inside it inherits it
// (node:test's own rule, so `describe('x', { timeout: 240_000 })` still covers its tests). Any other
// test gets TEST_TIMEOUT_MS; any other suite none of its own (its tests are bounded one by one).
// Suites' bodies run while they are created, so the rule is read off the timeout node:test gave.
import { createRequire } from 'node:module';
import { FILE_TIMEOUT_MS, TEST_TIMEOUT_MS } from './test-tier.mjs';

const require = createRequire(import.meta.url);
let internals;
try {
  internals = require('internal/test_runner/test');
} catch (error) {
  throw new Error('scripts/test-timeout.mjs needs --expose-internals (scripts/run-tests.mjs passes it)', { cause: error });
}
const { Test, Suite } = internals;
if (typeof Test?.prototype?.createSubtest !== 'function' || typeof Suite !== 'function') {
  // A Node whose test runner changed shape: fail loudly rather than run without timeouts.
  throw new Error(`scripts/test-timeout.mjs: node:test internals changed in Node ${process.version}; update the per-test timeout`);
}

const createSubtest = Test.prototype.createSubtest;
Test.prototype.createSubtest = function (Factory, name, options, fn, overrides) {
  const test = createSubtest.call(this, Factory, name, options, fn, overrides);
  // node:test has already given the test its own timeout or its parent's. Unbounded (null or
  // Infinity, or only the file's backstop handed down): a test gets the default, a suite stays
  // unbounded so that its tests are bounded one by one.
  const unbounded = test.timeout == null || test.timeout === Infinity || test.timeout === FILE_TIMEOUT_MS;
  if (unbounded && !(test instanceof Suite)) test.timeout = TEST_TIMEOUT_MS;
  return test;
};
