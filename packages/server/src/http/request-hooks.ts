import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.ts';
import { createAccessLog, type AccessLog } from '../observability/access-log.ts';
import { registerErrorHandling } from './error-handler.ts';
import { apiSecurityHeaders } from './security-headers.ts';

/** Longest accepted request target (path + query). */
const MAX_URL_LENGTH = 2048;

declare module 'fastify' {
  interface FastifyInstance {
    /** The one line per request (observability/access-log.ts); the fast path writes it too. */
    accessLog: AccessLog;
  }
}

/**
 * The access-log line of an answered request: from the onResponse hook, and from an event stream
 * when it closes (a hijacked reply skips onResponse; its response time is how long it was open).
 */
export function logAnswered(request: FastifyRequest, reply: FastifyReply): void {
  request.server.accessLog({ reqId: request.id, method: request.method, url: request.url, remoteAddress: request.ip, statusCode: reply.statusCode, responseTimeMs: reply.elapsedTime });
}

/**
 * What every request passes through, on the root so that every route has it: the error handling
 * (http/error-handler.ts), the request id answered back, the access log line, the URL bound and the
 * API's security headers. Registered before every resource, so its close (the access log's last
 * lines) runs after theirs.
 */
export const requestHooks = fp(
  async (app: FastifyInstance) => {
    const telemetry = app.metrics.telemetry;
    const accessLog = createAccessLog(app.log);
    app.decorate('accessLog', accessLog);
    app.addHook('onClose', async () => accessLog.flush());

    registerErrorHandling(app, { onDatabaseUnavailable: () => telemetry.backendError('database') });
    app.addHook('onResponse', function accessLogLine(request, reply, done) {
      logAnswered(request, reply);
      done();
    });
    // One synchronous hook for what every request gets (a promise per hook costs a session check
    // measurably, docs/BENCHMARKS.md): its id, the API's security headers (http/security-headers.ts;
    // the HTML documents, the devices page and /docs, replace them with helmet's set, http/routes.ts),
    // and the URL bound. Errors get them too: the hook runs before anything can fail.
    app.addHook('onRequest', function requestBasics(request, reply, done) {
      reply.header('x-request-id', request.id);
      reply.headers(apiSecurityHeaders);
      done(request.url.length > MAX_URL_LENGTH ? new AppError('uri_too_long', `Request targets are limited to ${MAX_URL_LENGTH} characters.`) : undefined);
    });
  },
  { name: 'sessiond-request-hooks', dependencies: ['sessiond-metrics'] },
);
