import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { ServiceKey, ServiceKeyScope } from './service-key.ts';
import type { ServiceKeyStore } from './service-key-store.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requireServiceKey's hook on the routes of its scope; absent elsewhere. */
    serviceKey?: ServiceKey;
  }
}

/** Longest header value looked at: a real key is 68 characters. */
const MAX_KEY_LENGTH = 200;

/** The authenticated service key of a route protected by requireServiceKey. */
export function serviceKeyOf(request: FastifyRequest): ServiceKey {
  if (!request.serviceKey) throw new AppError('invalid_service_key', 'Send a service key in the X-Service-Key header.');
  return request.serviceKey;
}

/**
 * Protects every route registered inside `scope` with a service key (header `X-Service-Key`) that
 * holds `requiredScope`. Runs onRequest, before body parsing and validation, so an unauthorised
 * caller learns nothing else about its request.
 *
 * Only a service key counts: an end user's access token or an operator's admin key in its place
 * is a missing key (401). Credentials are not interchangeable: a user token must never reach
 * machine-only capabilities, and an admin key (a person's) is not a licence to sign in as users.
 * A valid key without the scope is 403: the caller is known, but not allowed this.
 */
export function requireServiceKey(scope: FastifyInstance, deps: { keys: ServiceKeyStore; requiredScope: ServiceKeyScope }): void {
  scope.decorateRequest('serviceKey', undefined);
  scope.addHook('onRequest', async (request) => {
    const presented = request.headers['x-service-key'];
    if (typeof presented !== 'string' || presented.length === 0) {
      throw new AppError('invalid_service_key', 'Send a service key in the X-Service-Key header (user tokens and admin keys are not accepted here).');
    }
    const key = presented.length > MAX_KEY_LENGTH ? undefined : await deps.keys.verify(presented);
    if (!key) throw new AppError('invalid_service_key', 'The service key is invalid or revoked.');
    if (!key.scopes.includes(deps.requiredScope)) {
      throw new AppError('insufficient_scope', `This service key lacks the scope ${deps.requiredScope}.`);
    }
    request.serviceKey = key;
  });
}
