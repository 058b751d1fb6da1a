import { Type, type Static, type TSchema } from 'typebox';

/** RFC 9457 problem details: the body of every error answer. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'Stable URI naming the kind of problem.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), { description: 'Which inputs failed validation.' }),
    ),
    error: Type.Optional(
      Type.String({
        description:
          'Only at the token endpoints (sign-up, sign-in, refresh), for a refused DPoP proof: the OAuth error code (RFC 6749 §5.2; RFC 9449 §5, §8), `invalid_dpop_proof` or `use_dpop_nonce`, which OAuth and DPoP client libraries read from the body.',
      }),
    ),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);
export type Problem = Static<typeof Problem>;

/**
 * A reference to a shared schema registered with `app.addSchema`, typed as the schema itself.
 * Routes name shared schemas by $ref so the OpenAPI document gets named components (and the SDK
 * named types) while handlers keep full static types.
 */
export function ref<T extends TSchema>(schema: T) {
  const id = (schema as { $id?: unknown }).$id;
  if (typeof id !== 'string') throw new Error('ref() needs a schema with an $id');
  return Type.Unsafe<Static<T>>({ $ref: `${id}#` });
}

/** What each error status means, in the OpenAPI document (here and in http/openapi.ts). */
export const problemDescriptions: Record<number, string> = {
  400: 'Invalid request: a parameter or the body failed validation, or the JSON is malformed (problem details)',
  401: 'Missing, invalid, expired or revoked credentials (problem details)',
  403: 'The password given is incorrect (problem details)',
  404: 'Not found (problem details)',
  409: 'Conflict (problem details)',
  413: 'Request body too large (problem details)',
  414: 'Request target (path and query) too long (problem details)',
  415: 'Unsupported content type: the API reads application/json only (problem details)',
  429: 'Too many attempts: wait Retry-After seconds (problem details)',
  500: 'Unexpected error; details only in the log, under the request id (problem details)',
  503: 'A backend (the database) is unreachable, or the service is shutting down: retry after Retry-After (problem details)',
};

/** Error responses of a route, for the OpenAPI document. */
export function problemResponses(...statuses: number[]) {
  const out: Record<number, { description: string; content: { 'application/problem+json': { schema: ReturnType<typeof ref<typeof Problem>> } } }> = {};
  for (const status of statuses) {
    out[status] = { description: problemDescriptions[status] ?? 'Error (problem details)', content: { 'application/problem+json': { schema: ref(Problem) } } };
  }
  return out;
}
