import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { errorCatalogue, problemType, type ErrorCode } from '../errors.ts';
import { problemDescriptions } from './problem.ts';
import { usePageSecurityHeaders } from './security-headers.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A public operation: it takes no credentials, and the OpenAPI document says `security: []`.
     * Every other documented route declares its `schema.security`; the OpenAPI lint
     * (test/http/openapi-lint.test.ts) fails on a route that does neither.
     */
    public?: boolean;
  }
}

export interface OpenApiOptions {
  version: string;
  pageHeaders: Readonly<Record<string, string>>;
  /** The URL clients reach the service at (config.publicUrl); the document's `servers`. */
  serverUrl: string;
}

/**
 * The OpenAPI document is generated from the route schemas that validate requests: there is no
 * second copy of the API. Shared schemas registered with addSchema become named components.
 *
 * What every route shares is added here, in one place, so a route added later gets it without a
 * line in its own file (completeDocument below): the error answers each kind of route can get
 * (problem details, with an example each), `X-Request-Id` on every answer, `Retry-After` on 429/503,
 * `WWW-Authenticate` on 401, and `security: []` on routes flagged `config.public`.
 */
export async function registerOpenApi(app: FastifyInstance, options: OpenApiOptions) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'sessiond',
        version: options.version,
        description:
          'Session management: sign-in, the list of devices where a user is signed in, and revocation that takes effect on the next request.\n\n' +
          'Every error answer is RFC 9457 problem details (`application/problem+json`) with a stable `type` URI. ' +
          'A method a path does not have gets 405 with `Allow`; an unknown path gets 404. ' +
          'Every answer carries `X-Request-Id` (the caller\'s own, when it sends a sane one).',
        license: { name: 'MIT', identifier: 'MIT' },
        contact: { name: 'sessiond maintainers' },
      },
      servers: [{ url: options.serverUrl, description: 'This service (PUBLIC_URL, else its listening address)' }],
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
          'service-key': {
            type: 'apiKey',
            in: 'header',
            name: 'X-Service-Key',
            description: "Service key of the application's backend, from `npm run cli -- service-keys create <name> [--scope sessions:issue]` (default scope revocations:read: the revocation stream; sessions:issue: issuing sessions).",
          },
        },
      },
    },
    refResolver: {
      // Name components after the schema's $id (Session, SessionList, …) rather than def-0, def-1.
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    // A route flagged public says so; the rest declare their security (the lint test's
    // security-defined rule fails on a route that does neither).
    transform: ({ schema, url, route }) => ({ schema: route.config?.public && schema ? { ...schema, security: [] } : schema, url }),
    transformObject: (documentObject) => completeDocument((documentObject as { openapiObject: OpenApiDocument }).openapiObject),
  });
  // The reference at /docs is an HTML document: page headers, in a scope of its own.
  await app.register(async (scope) => {
    usePageSecurityHeaders(scope, options.pageHeaders);
    await scope.register(swaggerUi, { routePrefix: '/docs' });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** The default `servers` URL: where the service listens (a wildcard address is reached on loopback). */
export function listeningUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

// ---------------------------------------------------------------------------------------------
// The shared parts of every operation

interface ResponseObject {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: unknown; example?: unknown }>;
}

interface OperationObject {
  parameters?: Array<{ in: string }>;
  requestBody?: unknown;
  security?: Array<Record<string, string[]>>;
  responses?: Record<string, ResponseObject>;
}

export interface OpenApiDocument {
  paths?: Record<string, Record<string, OperationObject>>;
  components?: { headers?: Record<string, unknown>; [key: string]: unknown };
  [key: string]: unknown;
}

const header = (name: string) => ({ $ref: `#/components/headers/${name}` });

const sharedHeaders = {
  'X-Request-Id': {
    description: "The request's id: the caller's own X-Request-Id when it sent a sane one, otherwise generated. Every log line of the request carries it.",
    schema: { type: 'string', examples: ['web-1f3a-42'] },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'integer', minimum: 1, examples: [1] },
  },
  'WWW-Authenticate': {
    description: 'The scheme to use (RFC 6750 §3); `error="invalid_token"` when the token itself was the problem.',
    schema: { type: 'string', examples: ['Bearer error="invalid_token"'] },
  },
};

/** The error each status stands for in the document's examples (the catalogue has the full list). */
const exampleCodes: Record<number, { code: ErrorCode; detail: string }> = {
  400: { code: 'validation_failed', detail: 'query.limit must be <= 100' },
  401: { code: 'unauthenticated', detail: 'A bearer token is required.' },
  404: { code: 'not_found', detail: 'No such resource.' },
  413: { code: 'payload_too_large', detail: 'Request body too large.' },
  414: { code: 'uri_too_long', detail: 'Request targets are limited to 2048 characters.' },
  415: { code: 'unsupported_media_type', detail: 'Unsupported content type.' },
  429: { code: 'rate_limited', detail: 'Too many failed sign-ins; retry later.' },
  500: { code: 'internal', detail: 'An unexpected error occurred.' },
  503: { code: 'service_unavailable', detail: 'The database is unreachable; retry shortly.' },
};

/** Which error answers an operation can get, from what it takes. */
function errorStatuses(operation: OperationObject): number[] {
  const statuses = [414, 500, 503];
  const parameters = operation.parameters ?? [];
  if (parameters.length > 0 || operation.requestBody) statuses.push(400);
  if (operation.requestBody) statuses.push(413, 415);
  if ((operation.security ?? []).length > 0) statuses.push(401);
  if (parameters.some((p) => p.in === 'path')) statuses.push(404);
  return statuses;
}

function problemExample(status: number) {
  const example = exampleCodes[status];
  if (!example) return undefined;
  const { title } = errorCatalogue[example.code];
  return { type: problemType(example.code), title, status, detail: example.detail };
}

/**
 * Adds what every operation shares to the generated document (mutating it): the error answers of
 * its kind, as problem details with an example; `X-Request-Id` on every answer; `Retry-After` on 429
 * and 503; `WWW-Authenticate` on 401. Answers a route declares itself are kept, and completed.
 */
export function completeDocument(doc: OpenApiDocument): OpenApiDocument {
  doc.components = { ...doc.components, headers: { ...doc.components?.headers, ...sharedHeaders } };
  for (const item of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(item)) {
      const responses = (operation.responses ??= {});
      for (const status of errorStatuses(operation)) {
        responses[String(status)] ??= {
          description: problemDescriptions[status] ?? 'Error (problem details)',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        };
      }
      for (const [status, response] of Object.entries(responses)) {
        const code = Number(status);
        const headers: Record<string, unknown> = { 'X-Request-Id': header('X-Request-Id') };
        if (code === 429 || code === 503) headers['Retry-After'] = header('Retry-After');
        if (code === 401) headers['WWW-Authenticate'] = header('WWW-Authenticate');
        response.headers = { ...headers, ...response.headers };
        const problem = response.content?.['application/problem+json'];
        if (problem && problem.example === undefined) {
          const example = problemExample(code);
          if (example) problem.example = example;
        }
      }
      // Declared statuses in numeric order, as readers (and diffs) expect.
      operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
    }
  }
  return doc;
}
