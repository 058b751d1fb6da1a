import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AppConfig } from './config.ts';
import { dataFiles } from './data-files.ts';

/**
 * The `sessiond` command (packages/server/bin/sessiond.js; `npm run cli -- …` runs the same).
 * Exit codes: 0 done, 1 the work failed, 2 the command line or the configuration is wrong.
 *
 * Every command line is parsed by node's util.parseArgs in strict mode against the command's own
 * options before anything runs, so an unknown flag, a missing or extra argument stops with exit 2
 * and one line. `--help`/`-h` anywhere before `--` prints that command's help and does nothing
 * else: a help request must never rotate a key or create an admin key named "--help". Modules that
 * touch the database or keys are imported only by the commands that use them.
 */

type Options = NonNullable<ParseArgsConfig['options']>;

interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

interface Command {
  /** What follows `sessiond` in the usage line, e.g. `admin-keys create <name>`. */
  usage: string;
  summary: string;
  /** Further lines of the command's --help. */
  details?: string;
  options?: Options;
  /** Names of the positional arguments, all required. */
  positionals?: string[];
  /** `config()` reads and validates the environment (a bad value: exit 2); `serve` leaves that to server.ts. */
  run(parsed: Parsed, config: () => AppConfig): Promise<number>;
}

const keysFileOf = (config: AppConfig) => dataFiles(config).keysFile;

/** Builds the service (no listening, no background timers) for commands that need its services. */
async function withServices<T>(config: AppConfig, fn: (app: Awaited<ReturnType<typeof import('./app.ts').buildApp>>) => Promise<T>): Promise<T> {
  const { buildApp } = await import('./app.ts');
  // No background work: the running service sweeps and delivers webhooks, not a one-off command.
  const app = await buildApp({
    ...config,
    logLevel: 'silent',
    purgeIntervalSeconds: 0,
    webhooks: { ...config.webhooks, pollIntervalMs: 0 },
    mail: { ...config.mail, pollIntervalMs: 0 },
  });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** Runs a parsed `service-keys` command (service-keys/service-keys-command.ts does the work). */
async function serviceKeys(config: AppConfig, command: import('./service-keys/service-keys-command.ts').ServiceKeysCommand): Promise<number> {
  const { runServiceKeysCommand } = await import('./service-keys/service-keys-command.ts');
  return withServices(config, (app) =>
    runServiceKeysCommand(app.sessiond.serviceKeys, command, { out: (line) => console.log(line), err: (line) => console.error(line) }, Date.now()),
  );
}

async function listKeys(config: AppConfig, { rotate }: { rotate: boolean }): Promise<number> {
  const { loadOrCreateKeyFile, retireAfterMs, rotateKeys, writeKeyFile } = await import('./tokens/key-store.ts');
  const file = keysFileOf(config);
  const now = Date.now();
  let material = loadOrCreateKeyFile(file, now);
  if (rotate) {
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
}

const commands: Record<string, Command> = {
  serve: {
    usage: 'serve',
    summary: 'Run the service (what `npm start` and the container image run)',
    details:
      'Listens on HOST:PORT; WORKERS=N forks N worker processes sharing the port. Configuration comes from\n' +
      'the environment (README, "Configuration"). SIGTERM or SIGINT: stop accepting, answer in-flight\n' +
      'requests, close the pools, exit 0.',
    // server.ts reads and validates its own configuration (exit 2 on a bad value), as it always has.
    run: async () => {
      await import('./server.ts');
      return 0;
    },
  },
  migrate: {
    usage: 'migrate [--status]',
    summary: 'Apply pending database migrations (or list their state with --status)',
    details: 'Applies every pending migration in order; they also run when the service starts.',
    options: { status: { type: 'boolean' } },
    async run({ values }, configure) {
      const config = configure();
      const { createMigrator, openDatabase } = await import('./database/database.ts');
      const database = openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: dataFiles(config).sqliteFile });
      try {
        // Without the request timeouts: DDL on a large table may take its time (database.ts).
        const { error, results } = await database.withoutTimeouts(async (db) => {
          const migrator = createMigrator(db);
          if (values.status) {
            for (const m of await migrator.getMigrations()) console.log(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}`);
            return { error: undefined, results: undefined };
          }
          return migrator.migrateToLatest();
        });
        if (values.status) return 0;
        for (const r of results ?? []) console.log(`${r.status === 'Success' ? 'applied' : r.status.toLowerCase()}  ${r.migrationName}`);
        if (error) {
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a migration may throw a non-Error: String() is all there is to say
          console.error(`migration failed: ${error instanceof Error ? error.message : String(error)}`);
          return 1;
        }
        if (!results?.length) console.log('database is up to date');
        return 0;
      } finally {
        await database.close();
      }
    },
  },
  'keys list': {
    usage: 'keys list',
    summary: 'List signing keys (kid, created, state)',
    details: 'Creates the key file (KEYS_FILE, default DATA_DIR/keys.json) if there is none yet, as the service does.',
    run: (_parsed, config) => listKeys(config(), { rotate: false }),
  },
  'keys rotate': {
    usage: 'keys rotate',
    summary: 'Add a new signing key; running servers pick it up within 30 s',
    details:
      'The new Ed25519 key signs from now on; the previous key keeps verifying until every token it signed\n' +
      'has expired (access-token lifetime + 2 min), then is retired.',
    run: (_parsed, config) => listKeys(config(), { rotate: true }),
  },
  purge: {
    usage: 'purge [--batch-size N]',
    summary: 'Mark expired sessions ended and delete ended sessions past retention',
    details:
      'Marks expired sessions as ended (idle_timeout / absolute_timeout), then deletes sessions that ended\n' +
      'more than SESSION_HISTORY_RETENTION_SECONDS ago, in batches of N (default 5000).',
    options: { 'batch-size': { type: 'string' } },
    async run({ values }, configure) {
      const config = configure();
      const batchSize = Number(values['batch-size'] ?? 5000);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
        console.error('sessiond purge: --batch-size must be an integer from 1 to 100000');
        return 2;
      }
      return withServices(config, async (app) => {
        const tty = process.stdout.isTTY;
        const result = await app.sessiond.sessions.sweep({
          retentionMs: config.sessionHistoryRetentionSeconds * 1000,
          batchSize,
          maxBatches: Number.MAX_SAFE_INTEGER,
          onProgress: ({ expired, purged }) => {
            if (tty) process.stdout.write(`\rexpired ${expired}, purged ${purged}`);
          },
        });
        if (tty) process.stdout.write('\n');
        console.log(`done: ${result.expired} sessions marked expired, ${result.purged} ended sessions deleted`);
        return 0;
      });
    },
  },
  'revoke-user': {
    usage: 'revoke-user <email|user-id>',
    summary: 'Revoke every active session of one user (reason: admin)',
    details: 'Running servers refuse their tokens at once (same process) or within the revocation poll interval (other processes).',
    positionals: ['email|user-id'],
    async run({ positionals: [who] }, config) {
      const { normalizeEmail } = await import('./users/user.ts');
      return withServices(config(), async (app) => {
        const user = who!.includes('@') ? await app.sessiond.users.findByEmail(normalizeEmail(who!)) : await app.sessiond.users.findById(who!);
        if (!user) {
          console.error(`no such user: ${who}`);
          return 1;
        }
        const count = await app.sessiond.sessions.revokeAll(user.id, 'admin');
        console.log(`revoked ${count} session(s) of ${user.email}`);
        return 0;
      });
    },
  },
  'admin-keys create': {
    usage: 'admin-keys create <name>',
    summary: 'Create an admin API key (printed once; only its hash is stored)',
    details: 'Admin API keys authorise /admin/* (header X-Admin-Key). The secret is the last line of the output.',
    positionals: ['name'],
    run: ({ positionals: [name] }, config) =>
      withServices(config(), async (app) => {
        const { key, secret } = await app.sessiond.adminKeys.create(name!, Date.now());
        console.log(`created admin key ${key.id} (${key.name}). Store it now; it is not shown again:\n${secret}`);
        return 0;
      }),
  },
  'admin-keys list': {
    usage: 'admin-keys list',
    summary: 'List admin API keys',
    run: (_parsed, config) =>
      withServices(config(), async (app) => {
        for (const k of await app.sessiond.adminKeys.list()) {
          console.log(`${k.id}  ${k.revokedAtMs ? 'revoked' : 'active '}  created ${new Date(k.createdAtMs).toISOString()}  ${k.name}`);
        }
        return 0;
      }),
  },
  'admin-keys revoke': {
    usage: 'admin-keys revoke <id>',
    summary: 'Revoke an admin API key',
    positionals: ['id'],
    run: ({ positionals: [id] }, config) =>
      withServices(config(), async (app) => {
        if (!(await app.sessiond.adminKeys.revoke(id!, Date.now()))) {
          console.error(`no live admin key with id ${id}`);
          return 1;
        }
        console.log(`revoked admin key ${id}`);
        return 0;
      }),
  },
  'service-keys create': {
    usage: 'service-keys create <name> [--scope S]...',
    summary: "Create a service key for the application's backend (printed once; --scope sessions:issue to issue sessions)",
    details:
      "Service keys authorise the application's backends (header X-Service-Key). Without --scope a key may\n" +
      'only read revocations (revocations:read); --scope sessions:issue lets it create users and issue\n' +
      'sessions (repeat --scope to hold both). The secret is the last line of the output.',
    options: { scope: { type: 'string', multiple: true } },
    positionals: ['name'],
    async run({ values, positionals: [name] }, config) {
      const { isServiceKeyScope } = await import('./service-keys/service-key.ts');
      const scopes = (values.scope as string[] | undefined) ?? [];
      const unknown = scopes.filter((scope) => !isServiceKeyScope(scope));
      if (unknown.length > 0) {
        console.error(`sessiond service-keys create: unknown scope '${unknown[0]}' (revocations:read or sessions:issue)`);
        return 2;
      }
      return serviceKeys(config(), { action: 'create', name: name!, scopes: scopes.filter(isServiceKeyScope) });
    },
  },
  'service-keys list': {
    usage: 'service-keys list',
    summary: 'List service keys',
    run: (_parsed, config) => serviceKeys(config(), { action: 'list' }),
  },
  'service-keys revoke': {
    usage: 'service-keys revoke <id>',
    summary: 'Revoke a service key (streams it holds end)',
    positionals: ['id'],
    run: ({ positionals: [id] }, config) => serviceKeys(config(), { action: 'revoke', id: id! }),
  },
  config: {
    usage: 'config',
    summary: 'Print the effective configuration, secrets masked',
    async run(_parsed, configure) {
      const { maskedConfig } = await import('./config.ts');
      console.log(JSON.stringify(maskedConfig(configure()), null, 2));
      return 0;
    },
  },
};

/** Commands with subcommands (`keys list`): the group word alone only has a help. */
const groups = new Set(Object.keys(commands).filter((n) => n.includes(' ')).map((n) => n.split(' ')[0]!));

const column = Math.max(...Object.values(commands).map((c) => c.usage.length)) + 2;
const listing = (names: string[]) => names.map((n) => `  ${commands[n]!.usage.padEnd(column)}${commands[n]!.summary}`).join('\n');

const mainHelp = `Usage: sessiond <command> [options]

Commands:
${listing(Object.keys(commands))}
  ${'help [command]'.padEnd(column)}Show this help, or a command's

Every command takes --help (-h), which prints its help and does nothing else.
Exit codes: 0 done, 1 failed, 2 bad usage or configuration.
Configuration comes from the same environment variables as the service (DATABASE_URL, DATA_DIR, ...).`;

function helpOf(name: string): string {
  if (groups.has(name)) {
    const subs = Object.keys(commands).filter((n) => n.startsWith(`${name} `));
    return `Usage: sessiond ${name} <${subs.map((n) => n.split(' ')[1]).join('|')}>\n\n${listing(subs)}`;
  }
  const command = commands[name]!;
  return `Usage: sessiond ${command.usage}\n\n${command.summary}.${command.details ? `\n\n${command.details}` : ''}`;
}

/** `--help`/`-h` among the options (not after `--`, not as an option's value). */
function asksForHelp(args: string[], options: Options = {}): boolean {
  const { tokens } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: false, allowPositionals: true, tokens: true });
  return tokens.some((t) => t.kind === 'option' && t.name === 'help');
}

class UsageError extends Error {}

/** Finds the command an argument list names; the rest are its arguments. */
function resolve(argv: string[]): { name: string; args: string[] } {
  const [first, second, ...rest] = argv;
  if (first === undefined) throw new UsageError('no command given (see sessiond --help)');
  if (first === 'help' || first === '--help' || first === '-h') return { name: 'help', args: first === 'help' ? argv.slice(1) : [] };
  if (first.startsWith('-')) throw new UsageError(`unknown option '${first}' (see sessiond --help)`);
  if (groups.has(first)) {
    if (second === undefined || second.startsWith('-')) {
      if (second !== undefined && asksForHelp([second, ...rest])) return { name: first, args: ['--help'] };
      throw new UsageError(`'${first}' needs a subcommand: ${helpOf(first).split('\n')[0]!.replace('Usage: ', '')}`);
    }
    const name = `${first} ${second}`;
    if (!commands[name]) throw new UsageError(`unknown command '${name}' (see sessiond ${first} --help)`);
    return { name, args: rest };
  }
  if (!commands[first]) throw new UsageError(`unknown command '${first}' (see sessiond --help)`);
  return { name: first, args: argv.slice(1) };
}

function parse(name: string, command: Command, args: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args, options: command.options ?? {}, strict: true, allowPositionals: true });
  } catch (error) {
    // parseArgs' messages can run over several lines (a hint about `--`): the first one says it.
    throw new UsageError(`${(error as Error).message.split('\n')[0]!.split('. To specify')[0]} (see sessiond ${name} --help)`);
  }
  const expected = command.positionals ?? [];
  if (parsed.positionals.length < expected.length) throw new UsageError(`missing <${expected[parsed.positionals.length]}> (usage: sessiond ${command.usage})`);
  if (parsed.positionals.length > expected.length) throw new UsageError(`unexpected argument '${parsed.positionals[expected.length]}' (usage: sessiond ${command.usage})`);
  return parsed;
}

async function main(argv: string[]): Promise<number> {
  let name: string;
  let args: string[];
  try {
    ({ name, args } = resolve(argv));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (argv.length === 0) console.error(mainHelp);
    else console.error(`sessiond: ${error.message}`);
    return 2;
  }
  if (name === 'help') {
    const topic = args.filter((a) => !a.startsWith('-')).join(' ');
    if (!topic) {
      console.log(mainHelp);
      return 0;
    }
    if (!commands[topic] && !groups.has(topic)) {
      console.error(`sessiond: no help for unknown command '${topic}' (see sessiond --help)`);
      return 2;
    }
    console.log(helpOf(topic));
    return 0;
  }
  if (groups.has(name) || asksForHelp(args, commands[name]!.options)) {
    console.log(helpOf(name));
    return 0;
  }
  const command = commands[name]!;
  let parsed: Parsed;
  try {
    parsed = parse(name, command, args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`sessiond ${name}: ${error.message}`);
    return 2;
  }
  const { ConfigError, loadConfig } = await import('./config.ts');
  let config: AppConfig | undefined;
  try {
    return await command.run(parsed, () => (config ??= loadConfig()));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    console.error(`sessiond ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
