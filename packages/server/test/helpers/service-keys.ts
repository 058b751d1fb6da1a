// Service keys for tests, made in the app's real store (service-keys/kysely-service-key-store.ts),
// as `sessiond service-keys create` makes them: the stream and the verifier are tested against the
// keys a deployment really has, revocation included.
import type { FastifyInstance } from 'fastify';
import { isServiceKeyScope } from '../../src/service-keys/service-key.ts';

/** Keys of the app `app()` returns (read at each call, so an app restarted on the same database works). */
export function serviceKeysOf(app: () => FastifyInstance) {
  return {
    /** A new key with these scopes (default: revocations:read); returns its secret. */
    async create(scopes: string[] = ['revocations:read']): Promise<string> {
      const { secret } = await app().sessiond.serviceKeys.create('test', scopes.filter(isServiceKeyScope), Date.now());
      return secret;
    },
    /** Revokes the key a secret belongs to. */
    async revoke(secret: string): Promise<void> {
      const id = /^sdk_svc_([0-9a-f]+)\./.exec(secret)?.[1];
      if (!id || !(await app().sessiond.serviceKeys.revoke(id, Date.now()))) throw new Error('no such live service key');
    },
  };
}
