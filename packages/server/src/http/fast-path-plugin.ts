import fp from 'fastify-plugin';
import { authFastRoutes } from '../auth/auth-routes.ts';
import { sessionFastRoutes } from '../sessions/session-routes.ts';
import { createFastPath, takeFastPathReadError } from './fast-path.ts';
import type { FastPathSlot } from './fastify-options.ts';
import { apiSecurityHeaders } from './security-headers.ts';

/** The session checks' fast path (http/fast-path.ts), put into the HTTP server's slot; off with FAST_PATH=off. */
export const fastPathPlugin = fp<{ slot: FastPathSlot }>(
  async (app, { slot }) => {
    const { config, accessLog } = app;
    const { sessions, auth } = app.services;
    const { accessTokens } = app.tokens;
    const metrics = app.metrics;
    if (config.fastPath) {
      const fastPath = createFastPath({
        accessTokens,
        sessions,
        routes: [...sessionFastRoutes(sessions), ...authFastRoutes(auth)],
        securityHeaders: apiSecurityHeaders,
        accessLog,
        recordRequest: metrics.recordRequest,
        trustProxy: config.trustProxy,
        cors: config.corsOrigins.length > 0,
        hasRoute: (url) => app.hasRoute({ method: 'GET', url }),
      });
      slot.current = fastPath;
      app.addHook('preHandler', function fastPathReadError(request, _reply, done) {
        const readError = takeFastPathReadError(request.raw);
        done(readError === undefined ? undefined : (readError as Error));
      });
      // From the start of close(), Fastify answers 503 on kept-alive connections; so must every request.
      const closing = fastPath;
      app.addHook('preClose', (done) => {
        closing.stop();
        done();
      });
    }
  },
  { name: 'sessiond-fast-path', dependencies: ['sessiond-request-hooks', 'sessiond-services', 'sessiond-tokens'] },
);
