import { Type } from 'typebox';

/** 8-4-4-4-12 digits of the given class: the one spelling of a UUID's shape. */
const uuidShape = (hex: string) => `${hex}{8}-${hex}{4}-${hex}{4}-${hex}{4}-${hex}{12}`;

/**
 * UUIDs on input: any case (RFC 9562 §4: hex digits are case-insensitive on input), nothing else.
 * The validator (http/validation.ts) rewrites every path and query value declared with this pattern
 * to the canonical lower-case form, so a handler only ever sees that form and an upper-case id gets
 * exactly the answer of the lower-case one (nothing to probe). The fast path (http/fast-path.ts)
 * tests its parameter with the same expression.
 */
export const UUID_PATTERN = `^${uuidShape('[0-9a-fA-F]')}$`;
export const uuidRegex = new RegExp(UUID_PATTERN);

/**
 * A UUID as this service writes it (crypto.randomUUID, lower case): the unanchored source, for
 * patterns that embed one (a refresh token), and the whole-string test, for values that must be
 * ours exactly (an access token's `sid`, ids on the revocation channels).
 */
export const CANONICAL_UUID_SOURCE = uuidShape('[0-9a-f]');
export const canonicalUuidRegex = new RegExp(`^${CANONICAL_UUID_SOURCE}$`);

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
