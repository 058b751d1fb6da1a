// test-tier: full (runs the CLI as processes)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ConfigError, loadConfig, maskUrl } from '../../src/config.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../../..');

/** `npm run cli -- config` as an operator runs it (the same entry point, without npm's banner). */
async function printedConfig(env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'packages/server/src/cli.ts', 'config'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 60_000,
  });
  return stdout;
}

const webhookSecret = 'whsec-0123456789abcdef0123456789abcdef';

// Every form a credential takes in the URLs sessiond reads, each with a distinct secret.
const forms: Array<{ label: string; url: string; secrets: string[]; kept: string[] }> = [
  { label: 'user:password@', url: 'postgres://app:pg-secret-1@db.internal:5432/sessiond', secrets: ['pg-secret-1'], kept: ['app', 'db.internal:5432/sessiond'] },
  { label: 'empty user, :password@', url: 'postgres://:pg-secret-2@db.internal/sessiond', secrets: ['pg-secret-2'], kept: ['db.internal/sessiond'] },
  { label: '?password= query', url: 'postgresql://app@db.internal/sessiond?password=pg-secret-3&sslmode=require', secrets: ['pg-secret-3'], kept: ['sslmode=require', 'app@'] },
  { label: 'percent-encoded password', url: 'postgres://app:pg%40secret%2F4@[::1]:5432/sessiond', secrets: ['pg%40secret%2F4', 'pg@secret/4'], kept: ['[::1]:5432'] },
  { label: 'unencoded / in the password (unparsable)', url: 'postgres://app:pg/secret-5@db/sessiond', secrets: ['secret-5'], kept: [] },
  { label: 'socket form without host (unparsable)', url: 'postgres://app:pg-secret-6@/sessiond?host=/var/run/postgresql', secrets: ['pg-secret-6'], kept: [] },
  { label: 'redis :password@', url: 'redis://:redis-secret-7@cache:6379', secrets: ['redis-secret-7'], kept: ['cache:6379'] },
  { label: 'rediss user:password@ and db', url: 'rediss://default:redis-secret-8@cache:6380/0', secrets: ['redis-secret-8'], kept: ['default', 'cache:6380/0'] },
  { label: 'webhook ?token= and &sig=', url: 'https://hooks.example.com/in?token=hook-secret-9&sig=hook-secret-10&x=1', secrets: ['hook-secret-9', 'hook-secret-10'], kept: ['hooks.example.com/in'] },
  { label: 'webhook secret in the fragment', url: 'https://hooks.example.com/in#access_token=hook-secret-11', secrets: ['hook-secret-11'], kept: ['hooks.example.com/in'] },
  { label: 'webhook ?api_key= repeated', url: 'http://127.0.0.1:9000/hook?api_key=hook-secret-12&api_key=hook-secret-13', secrets: ['hook-secret-12', 'hook-secret-13'], kept: ['127.0.0.1:9000/hook'] },
];

describe('config masking: every credential in every URL form (issue 12, item 8)', () => {
  for (const form of forms) {
    test(`maskUrl: ${form.label}`, () => {
      const shown = maskUrl(form.url);
      for (const secret of form.secrets) assert.ok(!shown.includes(secret), `${secret} shown: ${shown}`);
      for (const part of form.kept) assert.ok(shown.includes(part), `${part} kept: ${shown}`);
    });
  }

  test('`cli config` prints none of them (database, Redis and webhook URLs, the webhook secret)', async () => {
    const webhooks = forms.filter((f) => f.url.startsWith('http'));
    const databases = forms.filter((f) => f.url.startsWith('postgres'));
    const redises = forms.filter((f) => f.url.startsWith('redis'));
    const outputs = await Promise.all(
      databases.map((db, i) =>
        printedConfig({
          DATABASE_URL: db.url,
          REDIS_URL: redises[i % redises.length]!.url,
          WEBHOOK_URLS: webhooks.map((w) => w.url).join(','),
          WEBHOOK_SECRET: webhookSecret,
        }),
      ),
    );
    for (const [i, output] of outputs.entries()) {
      const printed = JSON.parse(output);
      assert.equal(typeof printed.databaseUrl, 'string', 'the database URL is shown (masked)');
      assert.equal(printed.webhooks.urls.length, webhooks.length);
      for (const secret of [...databases[i]!.secrets, ...redises[i % redises.length]!.secrets, ...webhooks.flatMap((w) => w.secrets), webhookSecret]) {
        assert.ok(!output.includes(secret), `\`config\` printed ${secret}`);
      }
    }
  });

  test('configuration errors show URL values only masked', () => {
    for (const [name, value, secret] of [
      ['DATABASE_URL', 'mysql://app:my-secret-14@db/x', 'my-secret-14'],
      ['REDIS_URL', 'memcached://:mc-secret-15@cache', 'mc-secret-15'],
    ] as const) {
      assert.throws(() => loadConfig({ [name]: value }), (e: Error) => e instanceof ConfigError && e.message.includes(name) && !e.message.includes(secret));
    }
  });
});
