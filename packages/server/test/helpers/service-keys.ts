// TEMPORARY until service keys (branch byo) are merged: an in-memory key set with the store's
// verify() shape, so the revocation stream can be tested now. Replaced by the real store.
import crypto from 'node:crypto';
import type { ServiceKeyCheck } from '../../src/revocations/service-key-check.ts';

export function memoryServiceKeys() {
  const keys = new Map<string, { id: string; scopes: string[] }>();
  return {
    check: { verify: async (presented: string) => keys.get(presented) } satisfies ServiceKeyCheck,
    create(scopes: string[] = ['revocations:read']): string {
      const id = crypto.randomBytes(8).toString('hex');
      const secret = `sdk_svc_${id}.${crypto.randomBytes(32).toString('base64url')}`;
      keys.set(secret, { id, scopes });
      return secret;
    },
    revoke(secret: string): void {
      keys.delete(secret);
    },
  };
}
