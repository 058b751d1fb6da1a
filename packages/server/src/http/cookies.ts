import type { FastifyRequest } from 'fastify';

/**
 * A request cookie, the Cookie header parsed on first use. @fastify/cookie is registered without
 * its parsing hook (http/routes.ts): parsing on every request cost the session checks, which never read a
 * cookie; the two routes that do (sign-in's device cookie, the cookie refresh) parse here.
 * Setting cookies is unaffected (the plugin's reply.setCookie parses for itself).
 */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  if (!request.cookies) {
    const header = request.headers.cookie;
    request.cookies = header ? request.server.parseCookie(header) : {};
  }
  return request.cookies[name];
}
