import type http from 'node:http';
import { LogController, type FastifyHttpOptions, type FastifyServerOptions } from 'fastify';
import pino from 'pino';
import type { AppConfig } from '../config.ts';
import { onClientError } from './client-error.ts';
import { sendProblem } from './error-handler.ts';
import { createHttpServer, type FastPath } from './fast-path.ts';
import { requestId } from './request-id.ts';
import { lazyRequestLogger } from './request-logger.ts';

/** Log redaction: no token, password or cookie may reach a log line (ASVS 16.2.5). */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-admin-key"]',
  'req.headers["x-service-key"]',
  '*.currentPassword',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.token',
  '*.refreshToken',
  '*.accessToken',
];

/**
 * Where the fast path goes once it exists: the HTTP server is made with the Fastify instance, the
 * fast path later, from the services (http/fast-path-plugin.ts fills this in).
 */
export interface FastPathSlot {
  current?: FastPath | undefined;
}

/** The Fastify instance's options: logging, bounded inputs, request ids, proxies, the HTTP server. */
export function fastifyOptions(config: AppConfig, logger: FastifyServerOptions['logger'] | undefined, slot: FastPathSlot): FastifyHttpOptions<http.Server> {
  return {
    // Logs go to stdout with synchronous writes: a line is out before the next statement runs (none
    // lost in a crash), and the request log batches its lines per event-loop turn
    // (observability/access-log.ts), so there are few writes. pino's default, asynchronous writes
    // through the thread pool, cost more here: the pool's thread competes for the same core.
    logger: logger ?? { level: config.logLevel, redact: redactPaths, stream: pino.destination({ dest: 1, sync: true }) },
    bodyLimit: config.bodyLimitBytes,
    // Bounded inputs everywhere: long URLs and header floods are refused by Node before routing.
    // No trailing-slash folding: `DELETE /sessions/` (an empty id) must not become `DELETE /sessions`.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    // Router-level failures (bad percent-encoding, over-long path parameters) as problem details too.
    frameworkErrors: (error, _request, reply) => {
      void sendProblem(reply, 'validation_failed', error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long.' : 'The request URL is malformed.');
    },
    // Requests too malformed to parse: a problem answer and a log line without their bytes (http/client-error.ts).
    clientErrorHandler: onClientError,
    // Every log line of a request carries its id; a caller's X-Request-Id is kept when it is sane
    // (so ids can be followed across services), otherwise `<process prefix>-<counter>` (http/request-id.ts).
    requestIdHeader: false,
    genReqId: (req) => requestId(req.headers['x-request-id']),
    // X-Forwarded-For is believed only from the configured proxies; otherwise request.ip is the
    // socket peer, so a client cannot choose the address recorded on its session.
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    // One log line per request (http/request-hooks.ts, onResponse) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // A request's child logger is made only if it logs (http/request-logger.ts).
    childLoggerFactory: lazyRequestLogger,
    // The session checks' fast path goes first (http/fast-path.ts); it is built with the services
    // (http/fast-path-plugin.ts), and until then (and with FAST_PATH=off) every request goes to Fastify.
    serverFactory: (handler, options) =>
      createHttpServer(options as Parameters<typeof createHttpServer>[0], (request, response) => {
        if (!slot.current?.handle(request, response, handler)) handler(request, response);
      }),
  };
}
