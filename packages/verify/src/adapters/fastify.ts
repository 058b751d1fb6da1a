import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { VerifiedSession, Verifier } from '../verifier.ts';
import { refusal } from './refusal.ts';
import { dpopRequestOf, publicBaseOf, type AdapterOptions } from './request.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified session (set by @sessiond/verify's plugin in the scope it was registered in). */
    sessiond: VerifiedSession | null;
  }
}

export interface SessiondPluginOptions extends AdapterOptions {
  verifier: Verifier;
}

/**
 * Fastify plugin: an onRequest hook that verifies the access token (bearer, or DPoP with its proof) and decorates the request with
 * `request.sessiond`; a refused request is answered with 401/503 problem details before any body
 * parsing or handler. It applies to the scope it is registered in (like fastify-plugin, without
 * the dependency), so register it inside the plugin that holds your protected routes.
 */
export const sessiondPlugin: FastifyPluginAsync<SessiondPluginOptions> = async (app: FastifyInstance, { verifier, publicUrl }) => {
  const publicBase = publicBaseOf(publicUrl);
  if (!app.hasRequestDecorator('sessiond')) app.decorateRequest('sessiond', null);
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization;
    try {
      // request.protocol and request.host honour Fastify's trustProxy, like sessiond's own DPoP check.
      request.sessiond = await verifier.verify(header, dpopRequestOf(header, request.method, request.url, request.headers.dpop, () => `${request.protocol}://${request.host}`, publicBase));
    } catch (error) {
      const r = refusal(error, { tokenPresent: header !== undefined });
      return reply.code(r.status).headers(r.headers).send(r.body);
    }
  });
};
// Not encapsulated: the hook and decorator belong to the scope that registers the plugin.
(sessiondPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
