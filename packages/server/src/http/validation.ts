import { Ajv, type AnySchema } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { canonicalUuid, uuidProperties } from './uuid.ts';

// ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

/**
 * Request validation with two Ajv instances instead of Fastify's single one:
 * - query strings and path parameters arrive as text, so they are coerced ("2" -> 2);
 * - JSON bodies are NOT coerced: `{"password": 123456789}` or `{"email": ["a@b.c"]}` is a 400, not
 *   an account created with a password the client never typed as a string.
 * `strictNumbers: false` looks backwards but is what refuses `?page=Infinity`: with it on, Ajv 8
 * treats the coerced Infinity as "not a finite number, skip the range checks" and lets it through
 * to SQL (a 500). Measured, and asserted by test/http/bad-input.test.ts.
 */
export function registerValidation(app: FastifyInstance, sharedSchemas: AnySchema[]) {
  const make = (coerce: boolean) => {
    const ajv = new Ajv({
      coerceTypes: coerce ? 'array' : false,
      useDefaults: true,
      removeAdditional: true,
      allErrors: false,
      strictNumbers: false,
      strict: false,
    });
    addFormats(ajv);
    for (const schema of sharedSchemas) ajv.addSchema(schema);
    return ajv;
  };
  const bodies = make(false);
  const text = make(true);
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart === 'body') return bodies.compile(schema as AnySchema);
    const validate = text.compile(schema as AnySchema);
    const uuids = uuidProperties(schema);
    if (uuids.length === 0) return validate;
    // UUIDs are case-insensitive on input: once valid, the handler sees the canonical lower-case
    // form (http/uuid.ts), so an upper-case id gets the very answer of the lower-case one.
    const canonicalizing = (data: unknown) => {
      const valid = validate(data) === true; // no async schemas here
      if (valid) {
        const values = data as Record<string, unknown>;
        for (const name of uuids) if (typeof values[name] === 'string') values[name] = canonicalUuid(values[name]);
      }
      return valid;
    };
    // Fastify reads the failures from the function's `errors`, as Ajv leaves them.
    return Object.defineProperty(canonicalizing, 'errors', { get: () => validate.errors });
  });
}
