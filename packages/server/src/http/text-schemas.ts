import { Type, type TStringOptions } from 'typebox';

/**
 * What characters a request's strings may hold, defined once and used by every schema that takes
 * text. PostgreSQL's `text` cannot store NUL (U+0000): a NUL reaching a query is a database error,
 * a 500 with a stack trace on PostgreSQL while SQLite stores it (issue 12, item 7). So the schema
 * refuses it up front with a 400, the same on both backends, before any code or SQL sees it.
 */

/** No NUL: every string that is stored or used in a query (names, lookups). */
export const NO_NUL_PATTERN = '^[^\\u0000]*$';
/** No control characters (C0, DEL, C1): emails, which are identifiers people type and read. */
export const NO_CONTROL_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f]*$';

/** A string that will be stored or looked up: NUL refused. */
export const StoredString = (options: TStringOptions = {}) => Type.String({ pattern: NO_NUL_PATTERN, ...options });

/** An email as typed (sign-in, admin lookup): control characters refused. */
export const EmailString = (options: TStringOptions = {}) => Type.String({ pattern: NO_CONTROL_PATTERN, maxLength: 254, ...options });

/**
 * Text taken from request headers to be stored (User-Agent, the client address): a header is never
 * refused for its content, it is cleaned instead. Node's parser already refuses NUL and most control
 * characters in headers; this holds whatever the source (a proxy's X-Forwarded-For, a future
 * transport): control characters become U+FFFD, and the length is bounded.
 */
export function storableHeaderText(value: string | null, maxLength: number): string | null {
  if (value === null) return null;
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD').slice(0, maxLength);
}
