import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type AppConfig } from './config.ts';
import { createMigrator, openDatabase } from './database/database.ts';

/**
 * Operator commands: `npm run cli -- <command>` (or `npm run migrate`). Exit codes: 0 success,
 * 1 the work failed, 2 the command line or configuration is wrong.
 */
const usage = `Usage: sessiond <command> [options]

Commands:
  migrate [--status]   Apply pending database migrations (or list their state with --status)
  help                 Show this help

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
