import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { isDatabaseUnavailable } from '../database/errors.ts';
import { AppError, errorCatalogue, problemType, type ErrorCode } from '../errors.ts';
import type { Problem } from './problem.ts';
import { drainUnreadBody } from './unread-body.ts';

/**
 * The one place errors become HTTP. Services throw AppError; Fastify throws its own coded errors
 * for transport problems (bad JSON, wrong content type, too large, failed validation). Everything
 * else is a bug or an outage: 503 when the database is unreachable, otherwise 500 with a generic
 * detail; internals (messages, stacks) only go to the log.
 */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_BAD_URL: 'validation_failed',
  FST_ERR_ASYNC_CONSTRAINT: 'validation_failed',
};

export interface ProblemOptions {
  /** Per-field validation failures (400). */
  errors?: Problem['errors'];
  /** When the client may retry: `Retry-After`, in seconds. */
  retryAfterSeconds?: number | undefined;
  /** Other headers the answer needs (405's Allow). */
  headers?: Record<string, string>;
  /** The catalogue's alternative status the error chose (AppError.status: DPoP at a token endpoint). */
  status?: number;
  /** The OAuth `error` member of a token endpoint error (AppError.oauthError). */
  oauthError?: string | undefined;
}

export function sendProblem(reply: FastifyReply, code: ErrorCode, detail: string, options: ProblemOptions = {}) {
  const { title } = errorCatalogue[code];
  const status = options.status ?? errorCatalogue[code].status;
  const body: Problem = { type: problemType(code), title, status, detail, ...(options.errors ? { errors: options.errors } : {}), ...(options.oauthError ? { error: options.oauthError } : {}) };
  const headers: Record<string, string> = { ...options.headers };
  if (options.retryAfterSeconds !== undefined) headers['retry-after'] = String(options.retryAfterSeconds);
  // A challenge the edge already wrote (DPoP's, dpop/dpop-http.ts) is kept.
  if ((code === 'unauthenticated' || code === 'invalid_token') && !reply.hasHeader('www-authenticate')) {
    // RFC 6750 §3: tell the client which scheme to use, and whether its token was the problem.
    headers['www-authenticate'] = code === 'invalid_token' ? 'Bearer error="invalid_token"' : 'Bearer';
  }
  return reply.code(status).headers(headers).type('application/problem+json').send(JSON.stringify(body));
}

function validationErrors(error: FastifyError): Problem['errors'] {
  return (error.validation ?? []).slice(0, 20).map((v) => {
    const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
    const location = (error.validationContext ?? 'request').replace('querystring', 'query');
    const pathPart = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const field = [location, pathPart, missing].filter(Boolean).join('.');
    return { field, message: v.message ?? 'is invalid' };
  });
}

export function registerErrorHandling(app: FastifyInstance, hooks: { onDatabaseUnavailable?: () => void } = {}) {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // An answer before the body was read: read the rest first, so the client can read the answer.
    drainUnreadBody(request, reply);
    if (error instanceof AppError) {
      return sendProblem(reply, error.code, error.message, { retryAfterSeconds: error.retryAfterSeconds, status: error.status, oauthError: error.oauthError });
    }
    const mapped = error.code ? fastifyCodes[error.code] : undefined;
    if (mapped === 'validation_failed' && error.validation) {
      const errors = validationErrors(error);
      const detail = errors?.map((e) => `${e.field} ${e.message}`).join('; ') || 'The request is invalid.';
      return sendProblem(reply, 'validation_failed', detail, { errors });
    }
    if (mapped) {
      return sendProblem(reply, mapped, errorCatalogue[mapped].title + '.');
    }
    // Any other 4xx thrown by Fastify or a plugin is a client error: keep its status class.
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, error.statusCode === 413 ? 'payload_too_large' : error.statusCode === 415 ? 'unsupported_media_type' : 'validation_failed', 'The request could not be processed.');
    }
    if (isDatabaseUnavailable(error)) {
      hooks.onDatabaseUnavailable?.();
      request.log.error({ err: error }, 'database unavailable');
      return sendProblem(reply, 'service_unavailable', 'The database is unreachable; retry shortly.', { retryAfterSeconds: 1 });
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, 'internal', 'An unexpected error occurred.');
  });

  // A path that exists under other methods is a 405 with Allow (RFC 9110 §15.5.6), not a 404: a
  // second router, fed by onRoute with every route registered after this (hooks see all scopes),
  // answers which methods the path has. It only runs for requests no route took.
  const routes = FindMyWay({ ignoreTrailingSlash: false, maxParamLength: 200 });
  const methods = new Set<HTTPMethod>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat() as HTTPMethod[]) {
      if (routes.hasRoute(method, route.url)) continue;
      routes.on(method, route.url, () => {});
      methods.add(method);
    }
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = [...methods].filter((method) => routes.find(method, path) !== null).sort();
    if (allowed.length > 0) {
      return sendProblem(reply, 'method_not_allowed', `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}.`, { headers: { allow: allowed.join(', ') } });
    }
    return sendProblem(reply, 'not_found', `No route for ${request.method} ${path}.`);
  });
}
