import os from 'node:os';
import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id of @node-rs/argon2: a const enum, which isolated-module builds cannot import.
const ARGON2ID = 2;
import type { PasswordHashingConfig } from '../config.ts';

/**
 * argon2id via @node-rs/argon2, which hashes on libuv's thread pool: sign-ins never block the event
 * loop. Parameters default to OWASP's Password Storage Cheat Sheet (m=19 MiB, t=2, p=1).
 */
export function createPasswordHasher(params: PasswordHashingConfig) {
  const options = {
    algorithm: ARGON2ID,
    memoryCost: params.memoryCostKib,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  };
  const currentParams = `m=${params.memoryCostKib},t=${params.timeCost},p=${params.parallelism}`;
  // At most cores-1 hashes at once (at least 1): the rest of libuv's pool stays free for the work
  // the session check needs (WebCrypto signature checks of not-yet-cached tokens), which otherwise
  // queues behind 20 ms hashes during a sign-in burst (docs/BENCHMARKS.md).
  const limit = Math.max(1, os.availableParallelism() - 1);
  let running = 0;
  const waiting: Array<() => void> = [];
  async function slot<T>(work: () => Promise<T>): Promise<T> {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  }

  return {
    hash: (password: string) => slot(() => hash(password, options)),
    /** Never throws: a malformed stored hash simply does not verify. */
    verify: async (passwordHash: string, password: string) => {
      try {
        return await slot(() => verify(passwordHash, password));
      } catch {
        return false;
      }
    },
    /** True when the stored hash was made with other parameters (or another algorithm): rehash on login. */
    needsRehash: (passwordHash: string) => !passwordHash.startsWith('$argon2id$v=19$') || passwordHash.split('$')[3] !== currentParams,
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
