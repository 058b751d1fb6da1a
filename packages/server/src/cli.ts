import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type AppConfig } from './config.ts';
import { createMigrator, openDatabase } from './database/database.ts';
import { normalizeEmail } from './users/user.ts';
import { loadOrCreateKeyFile, retireAfterMs, rotateKeys, writeKeyFile } from './tokens/key-store.ts';

/**
 * Operator commands: `npm run cli -- <command>` (or `npm run migrate`). Exit codes: 0 success,
 * 1 the work failed, 2 the command line or configuration is wrong.
 */
const usage = `Usage: sessiond <command> [options]

Commands:
  migrate [--status]            Apply pending database migrations (or list their state with --status)
  keys list                     List signing keys (kid, created, state)
  keys rotate                   Add a new signing key; running servers pick it up within 30 s
  purge [--batch-size N]        Mark expired sessions ended and delete ended sessions past retention
  revoke-user <email|user-id>   Revoke every active session of one user (reason: admin)
  admin-keys create <name>      Create an admin API key (printed once; only its hash is stored)
  admin-keys list               List admin API keys
  admin-keys revoke <id>        Revoke an admin API key
  config                        Print the effective configuration, secrets masked
  help                          Show this help

Every command accepts --help.

Configuration comes from the same environment variables as the server (DATABASE_URL, DATA_DIR, ...).`;

type Command = (config: AppConfig, args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  async migrate(config, args) {
    const { values } = parseArgs({ args, options: { status: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      console.log('Usage: sessiond migrate [--status]\n\nApplies every pending migration in order; --status lists each migration and whether it is applied.');
      return 0;
    }
    const database = openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: path.join(config.dataDir, 'sessiond.sqlite') });
    try {
      const migrator = createMigrator(database.db);
      if (values.status) {
        for (const m of await migrator.getMigrations()) console.log(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}`);
        return 0;
      }
      const { error, results } = await migrator.migrateToLatest();
      for (const r of results ?? []) console.log(`${r.status === 'Success' ? 'applied' : r.status.toLowerCase()}  ${r.migrationName}`);
      if (error) {
        console.error(`migration failed: ${error instanceof Error ? error.message : String(error)}`);
        return 1;
      }
      if (!results?.length) console.log('database is up to date');
      return 0;
    } finally {
      await database.close();
    }
  },
};

const keysFileOf = (config: AppConfig) => config.keysFile ?? path.join(config.dataDir, 'keys.json');

/** Builds the service (no listening, no background timers) for commands that need its services. */
async function withServices<T>(config: AppConfig, fn: (app: Awaited<ReturnType<typeof buildApp>>) => Promise<T>): Promise<T> {
  // No background work: the running service sweeps and delivers webhooks, not a one-off command.
  const app = await buildApp({ ...config, logLevel: 'silent', purgeIntervalSeconds: 0, webhooks: { ...config.webhooks, pollIntervalMs: 0 } });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

commands.keys = async (config, args) => {
  const [sub] = args;
  if (sub !== 'list' && sub !== 'rotate') {
    console.log('Usage: sessiond keys list | keys rotate\n\nrotate adds a new Ed25519 key that signs from now on; the previous key keeps verifying until\nevery token it signed has expired (access-token lifetime + 2 min), then is retired.');
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  const file = keysFileOf(config);
  const now = Date.now();
  let material = loadOrCreateKeyFile(file, now);
  if (sub === 'rotate') {
    // Keys whose successor is older than a week have long been retired: drop them from the file.
    material = rotateKeys(material, now, 7 * 24 * 3600_000);
    writeKeyFile(file, material);
    console.log(`new signing key ${material.signingKeys[0]!.kid} written to ${file}`);
  }
  const retireMs = retireAfterMs(config.accessTokenTtlSeconds);
  material.signingKeys.forEach((k, i) => {
    const successor = material.signingKeys[i - 1];
    const state = !successor ? 'signing' : now < successor.createdAtMs + retireMs ? 'verifying' : 'retired';
    console.log(`${k.kid}  created ${new Date(k.createdAtMs).toISOString()}  ${state}`);
  });
  return 0;
};

commands.purge = async (config, args) => {
  const { values } = parseArgs({ args, options: { 'batch-size': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log('Usage: sessiond purge [--batch-size N]\n\nMarks expired sessions as ended (idle_timeout / absolute_timeout), then deletes sessions that\nended more than SESSION_HISTORY_RETENTION_SECONDS ago, in batches of N (default 5000).');
    return 0;
  }
  const batchSize = Number(values['batch-size'] ?? 5000);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    console.error('--batch-size must be an integer from 1 to 100000');
    return 2;
  }
  return withServices(config, async (app) => {
    const tty = process.stdout.isTTY;
    const result = await app.sessiond.sessions.sweep({
      retentionMs: config.sessionHistoryRetentionSeconds * 1000,
      batchSize,
      maxBatches: Number.MAX_SAFE_INTEGER,
      onProgress: ({ expired, purged }) => {
        const line = `expired ${expired}, purged ${purged}`;
        if (tty) process.stdout.write(`\r${line}`);
      },
    });
    if (tty) process.stdout.write('\n');
    console.log(`done: ${result.expired} sessions marked expired, ${result.purged} ended sessions deleted`);
    return 0;
  });
};

commands['revoke-user'] = async (config, args) => {
  const [who] = args;
  if (!who || who === '--help' || who === '-h') {
    console.log('Usage: sessiond revoke-user <email|user-id>\n\nRevokes every active session of the user (reason: admin). Running servers refuse their tokens\nat once (same process) or within the revocation poll interval (other processes).');
    return who ? 0 : 2;
  }
  return withServices(config, async (app) => {
    const user = who.includes('@') ? await app.sessiond.users.findByEmail(normalizeEmail(who)) : await app.sessiond.users.findById(who);
    if (!user) {
      console.error(`no such user: ${who}`);
      return 1;
    }
    const count = await app.sessiond.sessions.revokeAll(user.id, 'admin');
    console.log(`revoked ${count} session(s) of ${user.email}`);
    return 0;
  });
};

commands['admin-keys'] = async (config, args) => {
  const [sub, arg] = args;
  const usage = 'Usage: sessiond admin-keys create <name> | list | revoke <id>\n\nAdmin API keys authorise /admin/* (header X-Admin-Key). The secret is shown once at creation.';
  if (sub === '--help' || sub === '-h') {
    console.log(usage);
    return 0;
  }
  if (!(sub === 'list' || ((sub === 'create' || sub === 'revoke') && arg))) {
    console.error(usage);
    return 2;
  }
  return withServices(config, async (app) => {
    const keys = app.sessiond.adminKeys;
    if (sub === 'create') {
      const { key, secret } = await keys.create(arg!, Date.now());
      console.log(`created admin key ${key.id} (${key.name}). Store it now; it is not shown again:\n${secret}`);
      return 0;
    }
    if (sub === 'revoke') {
      if (!(await keys.revoke(arg!, Date.now()))) {
        console.error(`no live admin key with id ${arg}`);
        return 1;
      }
      console.log(`revoked admin key ${arg}`);
      return 0;
    }
    for (const k of await keys.list()) {
      console.log(`${k.id}  ${k.revokedAtMs ? 'revoked' : 'active '}  created ${new Date(k.createdAtMs).toISOString()}  ${k.name}`);
    }
    return 0;
  });
};

commands.config = async (config) => {
  const masked = {
    ...config,
    databaseUrl: config.databaseUrl?.replace(/\/\/([^:@/]+):([^@/]*)@/, '//$1:***@'),
    webhooks: { ...config.webhooks, secret: config.webhooks.secret === undefined ? undefined : '***' },
    metricsToken: config.metricsToken === undefined ? undefined : '***',
  };
  console.log(JSON.stringify(masked, null, 2));
  return 0;
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`unknown command: ${name}\n\n${usage}`);
    return 2;
  }
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  try {
    return await command(config, args);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error((error as Error).message);
      return 2;
    }
    console.error(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
