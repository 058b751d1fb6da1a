import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { usePageSecurityHeaders } from './security-headers.ts';

/**
 * The OpenAPI document is generated from the route schemas that validate requests: there is no
 * second copy of the API. Shared schemas registered with addSchema become named components.
 */
export async function registerOpenApi(app: FastifyInstance, options: { version: string; pageHeaders: Readonly<Record<string, string>> }) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'sessiond',
        version: options.version,
        description:
          'Session management: sign-in, the list of devices where a user is signed in, and revocation that takes effect on the next request.',
      },
      tags: [
        { name: 'Sessions', description: "The caller's sessions (devices)" },
        { name: 'Auth', description: 'Sign-up, sign-in, token refresh and sign-out' },
        { name: 'Admin', description: "Operators: users' sessions, revocation, audit log (admin API key)" },
        { name: 'Meta', description: 'Health and public keys' },
        { name: 'Revocations', description: 'Every session end, for services that verify tokens themselves (service key); see @sessiond/verify' },
      ],
      components: {
        securitySchemes: {
          'JWT-auth': { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from /auth/login, /auth/register or /auth/refresh.' },
          'admin-key': { type: 'apiKey', in: 'header', name: 'X-Admin-Key', description: 'Admin API key from `npm run cli -- admin-keys create <name>`.' },
          'service-key': { type: 'apiKey', in: 'header', name: 'X-Service-Key', description: 'Service key from `npm run cli -- service-keys create <name>`.' },
        },
      },
    },
    refResolver: {
      // Name components after the schema's $id (Session, SessionList, …) rather than def-0, def-1.
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  // The reference at /docs is an HTML document: page headers, in a scope of its own.
  await app.register(async (scope) => {
    usePageSecurityHeaders(scope, options.pageHeaders);
    await scope.register(swaggerUi, { routePrefix: '/docs' });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
