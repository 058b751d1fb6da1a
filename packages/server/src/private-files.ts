import fs from 'node:fs';
import path from 'node:path';

/**
 * Files holding secrets or session data (the SQLite database and its -wal/-shm, the key file) are
 * for the service's own user only. Modes given at creation are filtered by the process umask, so
 * they are set explicitly afterwards: the result does not depend on how the service was started.
 */

/**
 * Creates `dir` and any missing parents as 0700 (owner only). Folders that already exist are left
 * as they are: an operator who chose their mode (a shared volume, a group) keeps it.
 */
export function makePrivateDir(dir: string): void {
  const firstCreated = fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (firstCreated === undefined) return;
  const target = path.resolve(dir);
  let current = path.resolve(firstCreated);
  fs.chmodSync(current, 0o700);
  for (const part of path.relative(current, target).split(path.sep).filter(Boolean)) {
    current = path.join(current, part);
    fs.chmodSync(current, 0o700);
  }
}

/** Sets each of these files that exists to 0600 (owner read/write only). */
export function restrictToOwner(files: string[]): void {
  for (const file of files) {
    try {
      fs.chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
