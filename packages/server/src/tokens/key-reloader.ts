import { reloadKeyFileIfChanged, type KeyMaterial } from './key-store.ts';

/** How often each process checks the key file for a rotation. */
export const KEY_RELOAD_INTERVAL_MS = 30_000;

export interface KeyReloader {
  /** Re-reads the key file now when it changed (mtime); returns whether it did. */
  reload: () => boolean;
  /** Polls every KEY_RELOAD_INTERVAL_MS (unref'd timer), so `sessiond keys rotate` needs no restart. */
  start(): void;
  stop(): void;
}

/**
 * Picks up a rotated key file in a running process: every process of every instance polls the
 * shared file, so they all sign with the new key within one interval and verify with every
 * key still in the file.
 */
export function createKeyReloader(
  file: string,
  deps: { setKeys(material: KeyMaterial): void; onReloaded(): void; onError(error: unknown): void },
): KeyReloader {
  let mtimeMs = 0;
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    const changed = reloadKeyFileIfChanged(file, mtimeMs);
    if (!changed) return false;
    deps.setKeys(changed.material);
    mtimeMs = changed.mtimeMs;
    return true;
  };
  return {
    reload,
    start() {
      timer = setInterval(() => {
        try {
          if (reload()) deps.onReloaded();
        } catch (error) {
          deps.onError(error);
        }
      }, KEY_RELOAD_INTERVAL_MS);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
