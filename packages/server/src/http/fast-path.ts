import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { isDatabaseTimeout } from '../database/errors.ts';
import proxyAddr from '@fastify/proxy-addr';
import type { AccessLog } from '../observability/access-log.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import type { SessionService } from '../sessions/session-service.ts';
import { cachedPrincipal, type Principal } from './authenticate.ts';
import { requestId } from './request-id.ts';

/**
 * A route the fast path may answer: a GET with no query and no body, either at `path` exactly or,
 * with `param`, at `path` followed by one parameter that must match `param` entirely.
 */
export interface FastRoute {
  path: string;
  param?: RegExp;
  /** The same route's pattern in Fastify (the metrics label). */
  route: string;
  /**
   * The route's 200 answer, the very object its Fastify handler returns; undefined when only the
   * full route can answer (it then runs as if the fast path did not exist). A promise for reads
   * that need the database (the list and the count): if it rejects or yields undefined, the request
   * goes to the full route, which reads again and answers, errors included (so a read-only route only).
   */
  answer(principal: Principal, param: string): object | undefined | Promise<object | undefined>;
}

export interface FastPathDeps {
  accessTokens: AccessTokens;
  sessions: SessionService;
  routes: FastRoute[];
  /** The security headers every API answer carries (http/security-headers.ts). */
  securityHeaders: Readonly<Record<string, string>>;
  accessLog: AccessLog;
  recordRequest(method: string, route: string, statusCode: number, seconds: number): void;
  /** config.trustProxy: whose X-Forwarded-For is believed for the client address, as Fastify does. */
  trustProxy: string[];
  /** CORS configured: requests with an Origin get CORS headers from @fastify/cors, so they take the full path. */
  cors: boolean;
  /** Whether Fastify has a GET route with this pattern: each fast route must be one (checked at start). */
  hasRoute(pattern: string): boolean;
}

export interface FastPath {
  /**
   * Answers the request and returns true, or returns false having touched nothing. When a route's
   * answer needs a database read, returns true and later either answers or hands the untouched
   * request to `fallback` (Fastify's handler).
   */
  handle(request: IncomingMessage, response: ServerResponse, fallback: http.RequestListener): boolean;
  /** Stops answering (the app is closing: Fastify answers 503 from then on). */
  stop(): void;
  /** Requests answered here since start (tests check that the path really ran). */
  readonly served: number;
}

/**
 * The fast path: answers the session checks (`GET /sessions/validate/{id}`, `GET /auth/me`) that
 * memory can settle, and the caller's own list and count (`GET /sessions`, `GET /sessions/count`,
 * without query), before Fastify's request pipeline (routing, hooks, promises, a child logger,
 * serialization): about two thirds of a check's CPU went there, and the check is the request every
 * application makes on every one of its own requests (docs/BENCHMARKS.md).
 *
 * Why it cannot accept what the full path would refuse: it answers only when
 * - the bearer token is a string this process has already verified in full (signature, pinned
 *   algorithm, typ, iss, aud, exp) and that is still unexpired with a live key (`verifyCached`);
 * - the trusted session cache shows the token's session live and the subject's
 *   (`authenticateCached`, the cache rules of sessions/session-cache.ts);
 * - the route's own answer is in memory or read without error (`FastRoute.answer`).
 * Anything else (a new token, a cache miss, a revoked or expired session, a query string, a body, an
 * Origin under CORS, a closing server) returns false before anything is written, and Fastify handles
 * the request as if this did not exist. So every refusal and every error comes from the one full
 * path; this one only ever says yes, with the same status, body, headers, log line and metrics
 * (test/http/fast-path.test.ts compares the two byte for byte).
 *
 * What it skips is listed: that test reads the hooks Fastify runs on these routes (printRoutes)
 * and names what this does instead of each; a hook added there later (a rate limit, an
 * allowlist, an audit line) fails it until this path does the same or leaves such requests alone.
 * Each fast route must be a Fastify GET route (checked at start).
 */
export function createFastPath(deps: FastPathDeps): FastPath {
  const exact = new Map<string, FastRoute>();
  const prefixed: FastRoute[] = [];
  for (const route of deps.routes) {
    // A fast route answers for a Fastify route, never for a path Fastify does not serve.
    if (!deps.hasRoute(route.route)) throw new Error(`fast path: no Fastify route GET ${route.route}`);
    if (route.param) prefixed.push(route);
    else exact.set(route.path, route);
  }
  const trust = deps.trustProxy.length > 0 ? proxyAddr.compile(deps.trustProxy) : undefined;
  // The answer's headers in Fastify's order: request id, security headers, then the content's.
  const template: Array<string> = ['x-request-id', ''];
  for (const [name, value] of Object.entries(deps.securityHeaders)) template.push(name, value);
  // @fastify/cors marks every answer as varying by Origin when origins are configured.
  if (deps.cors) template.push('vary', 'Origin');
  template.push('content-type', 'application/json; charset=utf-8', 'content-length', '');
  let stopped = false;
  let served = 0;

  function find(url: string): { route: FastRoute; param: string } | undefined {
    const route = exact.get(url);
    if (route) return { route, param: '' };
    for (const candidate of prefixed) {
      if (url.startsWith(candidate.path)) {
        const param = url.slice(candidate.path.length);
        if (candidate.param!.test(param)) return { route: candidate, param };
      }
    }
    return undefined;
  }

  function handle(request: IncomingMessage, response: ServerResponse, fallback: http.RequestListener): boolean {
    if (stopped || request.method !== 'GET') return false;
    const startedAt = performance.now();
    const found = find(request.url ?? '');
    if (!found) return false;
    const headers = request.headers;
    if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return false;
    if (deps.cors && headers.origin !== undefined) return false;
    // The very test the full path's authenticate hook passes from memory (http/authenticate.ts):
    // only `Bearer <token>` with a verified, unbound token of a live session; a token bound to a
    // device key is never answered here, as only the full path checks DPoP proofs.
    const principal = cachedPrincipal(headers.authorization, deps);
    if (!principal) return false;
    const answer = found.route.answer(principal, found.param);
    if (answer === undefined) return false;
    if (answer instanceof Promise) {
      answer
        .then(
          (value) => (value === undefined || stopped ? fallback(request, response) : send(request, response, found.route, value, startedAt)),
          (error: unknown) => {
            // Fastify answers, errors included, reading again (a dropped connection is retried on
            // a fresh one); but after a timeout it must not wait on the database a second time (a
            // stalled database would double the time to a 503): it throws this error instead.
            if (isDatabaseTimeout(error)) readErrors.set(request, error);
            fallback(request, response);
          },
        )
        // Neither can throw in practice; if one did, end this response rather than the process.
        .catch((error: unknown) => response.destroy(error instanceof Error ? error : undefined));
      return true;
    }
    send(request, response, found.route, answer, startedAt);
    return true;
  }

  function send(request: IncomingMessage, response: ServerResponse, route: FastRoute, answer: object, startedAt: number): void {
    const headers = request.headers;
    const body = JSON.stringify(answer);
    const id = requestId(headers['x-request-id']);
    const out = template.slice();
    out[1] = id;
    out[out.length - 1] = String(Buffer.byteLength(body));
    response.writeHead(200, out);
    response.end(body);
    served++;
    const elapsedMs = performance.now() - startedAt;
    deps.recordRequest('GET', route.route, 200, elapsedMs / 1000);
    deps.accessLog({ reqId: id, method: 'GET', url: request.url!, remoteAddress: clientAddress(request), statusCode: 200, responseTimeMs: elapsedMs });
  }

  function clientAddress(request: IncomingMessage): string | undefined {
    if (!trust) return request.socket.remoteAddress;
    const addresses = proxyAddr.all(request, trust);
    return addresses[addresses.length - 1];
  }

  return {
    handle,
    stop: () => {
      stopped = true;
    },
    get served() {
      return served;
    },
  };
}

/**
 * The HTTP server Fastify would make for itself (fastify/lib/server.js, HTTP/1.1 without TLS), with
 * `listener` in front of Fastify's handler: Fastify's `serverFactory` skips its own timeouts, so
 * they are applied here from Fastify's resolved options.
 */
export function createHttpServer(
  options: { http?: http.ServerOptions | null; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket?: number | null },
  listener: http.RequestListener,
): http.Server {
  const server = http.createServer(options.http ?? {}, listener);
  server.keepAliveTimeout = options.keepAliveTimeout;
  server.requestTimeout = options.requestTimeout;
  server.setTimeout(options.connectionTimeout);
  if (options.maxRequestsPerSocket && options.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
  return server;
}

/** Read errors of requests the fast path handed to Fastify (a failed FastRoute.answer), by request. */
const readErrors = new WeakMap<IncomingMessage, unknown>();

/**
 * The error of the fast path's database read for this request, if it timed out, removed once taken.
 * Fastify's preHandler (after authentication and validation, so a 401 or 400 still comes first)
 * throws it to the error handler instead of reading again: one 503 after one timeout, not two.
 */
export function takeFastPathReadError(request: IncomingMessage): unknown {
  const error = readErrors.get(request);
  readErrors.delete(request);
  return error;
}
