import { defaultServiceKeyScopes, type ServiceKeyScope } from './service-key.ts';
import type { ServiceKeyStore } from './service-key-store.ts';

/** One `service-keys` command, already parsed (the CLI does the parsing; this does the work). */
export type ServiceKeysCommand =
  | { action: 'create'; name: string; scopes: ServiceKeyScope[] }
  | { action: 'list' }
  | { action: 'revoke'; id: string };

export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Runs a `service-keys` command against a store; returns the exit code (0 done, 1 failed). The
 * secret of a new key is the LAST line printed, alone, so scripts can take it with `tail -n 1`.
 */
export async function runServiceKeysCommand(store: ServiceKeyStore, command: ServiceKeysCommand, io: CommandOutput, nowMs: number): Promise<number> {
  if (command.action === 'create') {
    const scopes = command.scopes.length > 0 ? command.scopes : [...defaultServiceKeyScopes];
    const { key, secret } = await store.create(command.name, scopes, nowMs);
    io.out(`created service key ${key.id} (${key.name}) with scopes: ${key.scopes.join(' ')}`);
    io.out('Store it now; it is not shown again (send it in the X-Service-Key header):');
    io.out(secret);
    return 0;
  }
  if (command.action === 'revoke') {
    if (!(await store.revoke(command.id, nowMs))) {
      io.err(`no live service key with id ${command.id}`);
      return 1;
    }
    io.out(`revoked service key ${command.id}`);
    return 0;
  }
  for (const k of await store.list()) {
    io.out(`${k.id}  ${k.revokedAtMs ? 'revoked' : 'active '}  created ${new Date(k.createdAtMs).toISOString()}  ${k.scopes.join(',')}  ${k.name}`);
  }
  return 0;
}
