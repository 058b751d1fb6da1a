import fp from 'fastify-plugin';
import { dataFiles } from '../data-files.ts';
import { migrateDatabase, openDatabase, type DatabaseHandle } from './database.ts';

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseHandle;
  }
}

/**
 * The database: an already-open one (tests share one; its owner closes it), otherwise opened from
 * the configuration and closed with the app, after every unit registered later (onClose hooks run
 * in reverse order). Migrated before anything reads it.
 */
export const databasePlugin = fp<{ database?: DatabaseHandle | undefined }>(
  async (app, options) => {
    const database = options.database ?? openDatabase({ databaseUrl: app.config.databaseUrl, sqliteFile: dataFiles(app.config).sqliteFile });
    if (!options.database) app.addHook('onClose', async () => database.close());
    await migrateDatabase(database);
    app.decorate('database', database);
  },
  { name: 'sessiond-database' },
);
