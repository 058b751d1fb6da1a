import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Security headers of every JSON answer of the API (errors included): exactly the set of the OWASP
 * REST Security Cheat Sheet ("Security headers"), which is what matters for a response no browser
 * renders as a document:
 * - `cache-control: no-store`: session lists, tokens and user data must not be kept by a browser or
 *   shared cache (ASVS 14.3.2);
 * - the strictest CSP, `default-src 'none'; frame-ancestors 'none'`, and `x-frame-options: DENY`: if a
 *   JSON answer is ever opened as a page it loads nothing and cannot be framed;
 * - `x-content-type-options: nosniff` (never sniffed into HTML or script) and HSTS.
 * Left out as meaningless for these answers: Referrer-Policy (no document navigates from JSON) and
 * Cross-Origin-Resource-Policy (a cross-origin no-cors load cannot send the Authorization header
 * every API read needs, so there is nothing to leak). The HTML documents (the devices page, /docs)
 * get helmet's full set instead (`pageSecurityHeaders`). Five short headers rather than helmet's
 * twelve: each is validated and written on every session check.
 */
export const apiSecurityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});

/**
 * The headers for HTML documents, computed once at start by running helmet's own middleware against
 * a recording response. @fastify/helmet rebuilds them on every request (options re-validated, CSP
 * re-parsed: about a tenth of a session check's CPU, docs/BENCHMARKS.md); our options are
 * constant, so the result is too.
 */
export function pageSecurityHeaders(options: HelmetOptions): Record<string, string> {
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
    if (error) throw error as Error; // helmet's next(error) passes an Error
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously');
  return headers;
}

/**
 * Gives every route of `scope` the page headers instead of the API's (the root hook set those
 * first). Cache-Control is left to the page's own routes: its assets are immutable, index.html is
 * revalidated (http/web-page.ts).
 */
export function usePageSecurityHeaders(scope: FastifyInstance, headers: Readonly<Record<string, string>>): void {
  scope.addHook('onRequest', (_request, reply, done) => {
    reply.removeHeader('cache-control');
    reply.headers(headers);
    done();
  });
}
