// test-tier: full (runs Redocly and Spectral)
// The committed OpenAPI document lints clean under Redocly's `recommended` ruleset (redocly.yaml)
// and Spectral's `spectral:oas` (.spectral.yaml): zero findings of any severity, warnings and
// hints included. Both CLIs run from node_modules, offline.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../../..');
const bin = (name: string) => path.join(root, 'node_modules/.bin', name);
// No telemetry, no update check: the lint must not depend on the network.
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };

type Outcome = { code: number; stdout: string; stderr: string };
const outcome = (promise: Promise<{ stdout: string; stderr: string }>): Promise<Outcome> =>
  promise.then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? 1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  );

test('Redocly recommended: no errors, no warnings', async () => {
  const result = await outcome(run(bin('redocly'), ['lint', '--format=json', 'openapi.json'], { cwd: root, env, maxBuffer: 16 << 20 }));
  const report = JSON.parse(result.stdout) as { totals: { errors: number; warnings: number; ignored: number }; problems: Array<{ ruleId: string; message: string }> };
  assert.deepEqual(report.problems.map((p) => `${p.ruleId}: ${p.message}`), []);
  assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 });
  assert.equal(result.code, 0, result.stderr);
});

test('Spectral spectral:oas: no findings of any severity', async () => {
  const result = await outcome(run(bin('spectral'), ['lint', '--quiet', '--format=json', '--fail-severity=hint', '--ruleset=.spectral.yaml', 'openapi.json'], { cwd: root, env, maxBuffer: 16 << 20 }));
  const findings = JSON.parse(result.stdout || '[]') as Array<{ code: string; message: string; path: string[] }>;
  assert.deepEqual(findings.map((f) => `${f.code}: ${f.message} at ${f.path.join('.')}`), []);
  assert.equal(result.code, 0, result.stderr);
});
