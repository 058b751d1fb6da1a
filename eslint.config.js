// ESLint over every package's sources and tests and the scripts, with typescript-eslint's
// type-aware rules: they read the TypeScript program (tsconfig.json), so they see a promise nobody
// awaits, or an async function handed to a caller that ignores what it returns. `npm run lint`;
// `npm test` runs it before the tests. bench/ is left out: it has its own dependencies and tsconfig
// (bench/install.mjs, `npm run bench:typecheck`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node's own globals, read from the running Node (no list to keep up to date). */
const nodeGlobals = Object.fromEntries(Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']));

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/**', 'test-results/**', 'data/**'] },
  {
    files: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'scripts/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The two rules this lint is for. node:test's test() and describe() return promises the runner
      // itself awaits, so calling them bare is how the tests are written, not a dropped promise.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // An async function that does not await is how a method meets a Promise-returning interface
      // (the SQLite stores, the hooks): a throw inside it becomes a rejection, which is what callers expect.
      '@typescript-eslint/require-await': 'off',
      // `const { secret: _secret, ...rest } = row` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // An AbortSignal's reason is typed any; rejecting with it is what fetch itself does on abort.
      // `let x; const f = () => x!.go(); …; x = make()`: a closure written before its target exists
      // (a forward reference, read only after the assignment) is not a missed const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    // Migrations are frozen in time and typed Kysely<any> (Kysely's advice: a migration must not
    // depend on today's table types). The SDK runtime keeps typescript-fetch's public signatures
    // (Json = any, exists(json: any, ...)), so code written for a typescript-fetch client compiles.
    files: ['packages/server/src/database/migrations/*.ts', 'packages/sdk/src/runtime.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // Tests read JSON response bodies as `any` and assert on them field by field: the unsafe-any
    // rules would flag every assertion without finding anything the assertions do not. Tests save a
    // method (`const real = store.list`) to put it back after injecting a fault: unbound on purpose.
    files: ['packages/*/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // The exemption above for node:test's test() also covers TestContext#test (the same type), so a
      // subtest left unawaited is caught here instead: its parent may end first and cancel it.
      'no-restricted-syntax': [
        'error',
        { selector: "ExpressionStatement > CallExpression[callee.type='MemberExpression'][callee.property.name='test']", message: 'await t.test(…): a subtest not awaited may be cancelled when its parent ends.' },
      ],
    },
  },
  {
    // Written the way code for a typescript-fetch client is written, casts included: it checks that
    // such code still compiles against this SDK.
    files: ['packages/sdk/test/typescript-fetch-compat.test.ts'],
    rules: { '@typescript-eslint/no-unnecessary-type-assertion': 'off' },
  },
  {
    // Outside tsconfig.json (Vite reads it on its own): the rules that need no type information.
    files: ['packages/web/vite.config.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
  },
  {
    // Plain JavaScript (the scripts, the bin, this file): the JavaScript rules.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: nodeGlobals },
  },
);
