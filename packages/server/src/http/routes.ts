import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { adminRoutes } from '../admin/admin-routes.ts';
import { adminSchemas } from '../admin/admin-schemas.ts';
import { authRoutes } from '../auth/auth-routes.ts';
import { authSchemas } from '../auth/auth-schemas.ts';
import { issuedSessionRoutes } from '../auth/issued-session-routes.ts';
import { issuedSessionSchemas } from '../auth/issued-session-schemas.ts';
import { createRefreshCookie } from '../auth/refresh-cookie.ts';
import { healthRoutes } from '../observability/health-routes.ts';
import { passwordResetRoutes } from '../password-reset/password-reset-routes.ts';
import { passwordResetSchemas } from '../password-reset/password-reset-schemas.ts';
import { sessionRoutes } from '../sessions/session-routes.ts';
import { sessionSchemas } from '../sessions/session-schemas.ts';
import { Jwks, type JwksDocument } from '../tokens/jwks-schema.ts';
import { VERSION } from '../version.ts';
import { listeningUrl, registerOpenApi } from './openapi.ts';
import { Problem } from './problem.ts';
import { pageSecurityHeaders } from './security-headers.ts';
import { registerValidation } from './validation.ts';
import { registerWebPage } from './web-page.ts';

/**
 * The HTTP API: CORS, the shared schemas and their validation, the OpenAPI document, health and
 * metrics, the JWKS, the devices page and every feature's routes. Routes speak HTTP; the services
 * they call were wired before (services.ts).
 */
export const routesPlugin = fp(
  async (app: FastifyInstance) => {
    const { config, services, stores } = app;
    const { sessions, auth, dpop, resets } = services;
    const { accessTokens } = app.tokens;
    const live = app.liveStreams;
    // The HTML documents (the devices page, /docs) replace the API's security headers
    // (http/request-hooks.ts) with helmet's set, computed once. Their CSP allows only same-origin
    // scripts and styles, which the API reference and the devices page use.
    const pageHeaders = pageSecurityHeaders({
      contentSecurityPolicy: {
        // No upgrade-insecure-requests: over plain http on any host but localhost it makes the browser
        // fetch the page's own scripts over https, which fails (a blank page). Behind TLS it is moot.
        directives: { 'script-src': ["'self'"], 'style-src': ["'self'", "'unsafe-inline'"], 'img-src': ["'self'", 'data:'], 'upgrade-insecure-requests': null },
      },
    });
    // CORS is off unless origins are configured; credentials are never needed (bearer tokens). A
    // cross-origin script can read only the headers exposed here: DPoP clients need DPoP-Nonce, the
    // WWW-Authenticate challenge and Date (a refused proof's server time; RFC 9449 §7.1, §8). CORS
    // headers go only to requests from a configured origin, so an answer to a request without Origin
    // (the only kind the fast path serves) carries the same headers on both paths.
    if (config.corsOrigins.length > 0) {
      const allowed = new Set(config.corsOrigins);
      await app.register(cors, {
        origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin) ? origin : false),
        methods: ['GET', 'POST', 'DELETE'],
        allowedHeaders: ['authorization', 'content-type', 'dpop'],
        exposedHeaders: ['dpop-nonce', 'www-authenticate', 'date', 'retry-after', 'x-request-id'],
        maxAge: 600,
      });
    }
    const sharedSchemas = [Problem, ...authSchemas, ...sessionSchemas, ...adminSchemas, ...issuedSessionSchemas, ...passwordResetSchemas, ...live.schemas];
    for (const schema of sharedSchemas) app.addSchema(schema);
    registerValidation(app, sharedSchemas);
    // Fastify parses text/plain bodies by default; the API speaks JSON only, so that is a 415.
    app.removeContentTypeParser('text/plain');
    await registerOpenApi(app, { version: VERSION, pageHeaders, serverUrl: config.publicUrl ?? listeningUrl(config.host, config.port) });

    await app.register(healthRoutes, { db: app.database.db, redis: app.redis });
    app.metrics.register(app, { token: config.metricsToken });

    app.get('/.well-known/jwks.json', {
      config: { public: true },
      schema: {
        operationId: 'Meta_jwks',
        tags: ['Meta'],
        summary: 'Public keys that verify access tokens (JWKS)',
        description: 'The keys that currently verify access tokens (RFC 7517), newest first; a retired key leaves the set. Cacheable for 5 minutes.',
        response: { 200: { description: 'The JSON Web Key Set', ...Jwks } },
      },
      // Every key carries kid, alg and use (tokens/access-tokens.ts adds them to the exported JWK).
    }, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(accessTokens.jwks() as JwksDocument));
    await registerWebPage(app, { pageHeaders }); // the devices page at / (packages/web)

    // Without the parsing hook: cookies are parsed by the routes that read one (http/cookies.ts).
    await app.register(cookie, { hook: false });
    const refreshCookie = createRefreshCookie({ publicUrl: config.publicUrl, maxAgeSeconds: config.sessionAbsoluteLifetimeSeconds });
    await app.register(authRoutes, { auth, sessions, accessTokens, dpop, refreshCookie });
    await app.register(sessionRoutes, { sessions, accessTokens, dpop, refreshCookie });
    await app.register(adminRoutes, { keys: stores.adminKeys, sessions, users: stores.users, events: stores.events, deleteUser: auth.deleteUser });
    await app.register(issuedSessionRoutes, { auth, sessions, serviceKeys: stores.serviceKeys });
    await app.register(passwordResetRoutes, { resets });
    await app.register(live.routes, { sessions, accessTokens, dpop, serviceKeys: stores.serviceKeys });
  },
  { name: 'sessiond-routes', dependencies: ['sessiond-request-hooks', 'sessiond-services'] },
);
