// TEMPORARY, until branch `byo` (service keys) is merged: the shape of its ServiceKeyStore.verify
// and of its requireServiceKey hook, so the revocation routes can be written and tested now.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

export interface ServiceKeyCheck {
  /** The live key a presented secret belongs to, with its scopes; undefined when unknown or revoked. */
  verify(presented: string): Promise<{ id: string; scopes: readonly string[] } | undefined>;
}

declare module 'fastify' {
  interface FastifyRequest {
    serviceKeyId?: string;
  }
}

export function requireServiceKey(scope: FastifyInstance, deps: { keys: ServiceKeyCheck; requiredScope: string }): void {
  scope.addHook('onRequest', async (request) => {
    const presented = request.headers['x-service-key'];
    if (typeof presented !== 'string' || presented.length === 0) {
      throw new AppError('invalid_service_key', 'Send a service key in the X-Service-Key header (user tokens and admin keys are not accepted here).');
    }
    const key = presented.length > 200 ? undefined : await deps.keys.verify(presented);
    if (!key) throw new AppError('invalid_service_key', 'The service key is invalid or revoked.');
    if (!key.scopes.includes(deps.requiredScope)) throw new AppError('insufficient_scope', `This service key lacks the scope ${deps.requiredScope}.`);
    request.serviceKeyId = key.id;
  });
}
