import helmet, { type HelmetOptions } from 'helmet';

/**
 * The security headers every response carries, computed once at start by running helmet's own
 * middleware against a recording response. @fastify/helmet rebuilds them on every request (options
 * re-validated, CSP re-parsed: about a tenth of a session check's CPU, docs/BENCHMARKS.md); our
 * options are constant, so the result is too.
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let done = false;
  helmet(options)({} as never, recorder as never, (error?: unknown) => {
    if (error) throw error;
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously');
  return headers;
}
