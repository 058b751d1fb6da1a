import { Type } from 'typebox';

/**
 * UUIDs on input: any case (RFC 9562 §4: hex digits are case-insensitive on input), nothing else.
 * The validator (http/validation.ts) rewrites every path and query value declared with this pattern
 * to the canonical lower-case form, so a handler only ever sees that form and an upper-case id gets
 * exactly the answer of the lower-case one (nothing to probe). The fast path (http/fast-path.ts)
 * tests its parameter with the same expression.
 */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const uuidRegex = new RegExp(UUID_PATTERN);

/** A UUID in a path or query parameter (any case in, lower case to the handler). */
export const UuidInput = (description: string) => Type.String({ pattern: UUID_PATTERN, description });

/** The canonical (lower-case) form of a UUID that matched UUID_PATTERN. */
export const canonicalUuid = (value: string) => value.toLowerCase();

/**
 * Rewrites, in place, the top-level string values of a validated path or query object whose schema
 * property carries UUID_PATTERN. Returns the names it may rewrite (computed once per schema).
 */
export function uuidProperties(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, { pattern?: unknown }> } | null)?.properties ?? {};
  return Object.entries(properties).filter(([, property]) => property?.pattern === UUID_PATTERN).map(([name]) => name);
}
