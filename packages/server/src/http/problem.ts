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

const descriptions: Record<number, string> = {
  400: 'Invalid request (problem details)',
  401: 'Missing, invalid, expired or revoked credentials (problem details)',
  403: 'The password given is incorrect (problem details)',
  404: 'Not found (problem details)',
  409: 'Conflict (problem details)',
  413: 'Request body too large (problem details)',
  415: 'Unsupported content type (problem details)',
  429: 'Too many requests (problem details)',
};

/** Error responses of a route, for the OpenAPI document. */
export function problemResponses(...statuses: number[]) {
  const out: Record<number, { description: string; content: { 'application/problem+json': { schema: ReturnType<typeof ref<typeof Problem>> } } }> = {};
  for (const status of statuses) {
    out[status] = { description: descriptions[status] ?? 'Error (problem details)', content: { 'application/problem+json': { schema: ref(Problem) } } };
  }
  return out;
}
