import path from 'node:path';
import type { AppConfig } from './config.ts';

/**
 * The files the service keeps in its data folder: the embedded SQLite database (used when no
 * DATABASE_URL is set) and the signing-key file (KEYS_FILE overrides its place). Named here once:
 * the service, the cluster primary and the CLI must all open the very same files. (A module of its
 * own, not config.ts: the CLI loads config.ts only once a command runs.)
 */
export function dataFiles(config: Pick<AppConfig, 'dataDir' | 'keysFile'>): { sqliteFile: string; keysFile: string } {
  return { sqliteFile: path.join(config.dataDir, 'sessiond.sqlite'), keysFile: config.keysFile ?? path.join(config.dataDir, 'keys.json') };
}
