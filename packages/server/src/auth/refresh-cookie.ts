import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { cookieOf } from '../http/cookies.ts';
import { AppError } from '../errors.ts';

/**
 * The browser transport of refresh tokens. A page asks for it with the header
 * `X-Refresh-Transport: cookie`; the refresh token then travels only in an HttpOnly cookie that page
 * scripts cannot read (so an XSS cannot steal it), and the JSON body omits it.
 *
 * CSRF: the cookie is SameSite=Strict (never sent on cross-site requests) and scoped to
 * /auth/refresh. On top of that, a cookie-authenticated refresh must carry the custom header (a
 * cross-site form cannot send one, and a cross-origin fetch with it needs a CORS preflight that we
 * do not grant), and when the browser says where the request comes from (Origin, Sec-Fetch-Site),
 * it must be this origin.
 *
 * Secure: with a public https origin configured (PUBLIC_URL), the cookie is always `Secure` and named
 * with the `__Secure-` prefix, whatever the service itself sees: behind a TLS-terminating proxy that
 * is not in TRUST_PROXY the service sees plain http, and a cookie without Secure would also be sent
 * over http to that host. The prefix makes the browser refuse the cookie unless it was set Secure
 * over https, so no plain-http response (or a network attacker's) can plant or overwrite it. Without
 * PUBLIC_URL the cookie is Secure when the request arrived over https as the service sees it.
 */
export const REFRESH_COOKIE = 'sessiond_refresh';
export const SECURE_REFRESH_COOKIE = `__Secure-${REFRESH_COOKIE}`;
export const REFRESH_COOKIE_PATH = '/auth/refresh';
const TRANSPORT_HEADER = 'x-refresh-transport';

/** The request header of the browser transport, declared on the routes that issue tokens (and so in the OpenAPI document). */
export const RefreshTransportHeaders = Type.Object({
  [TRANSPORT_HEADER]: Type.Optional(Type.String({
    description: '`cookie` (browsers): the refresh token is set as an HttpOnly cookie and left out of the body; any other value is ignored.',
    examples: ['cookie'],
  })),
});

/** The cookie a browser sends to POST /auth/refresh (documentation only: Fastify does not validate cookies). */
export const RefreshCookie = Type.Object({
  [REFRESH_COOKIE]: Type.Optional(Type.String({ description: 'The refresh token of the browser transport (sent with `X-Refresh-Transport: cookie`).' })),
});

/** The Set-Cookie answer header of the routes that set or clear the refresh cookie. */
export const refreshCookieHeaders = {
  'Set-Cookie': {
    type: 'string',
    description:
      `With the browser transport: \`${REFRESH_COOKIE}=<token>; Path=${REFRESH_COOKIE_PATH}; HttpOnly; SameSite=Strict\` ` +
      '(`Secure` when the service sees https; with an https PUBLIC_URL always `Secure` and named `__Secure-' + REFRESH_COOKIE + '`); sign-out and a refresh refused because the session is over clear it.',
  },
};

export interface RefreshCookieOptions {
  /** The configured public origin (PUBLIC_URL), if any. */
  publicUrl: string | undefined;
  /** Cookie lifetime: the session's absolute lifetime (the server enforces the real limits). */
  maxAgeSeconds: number;
}

export function wantsCookieTransport(request: FastifyRequest): boolean {
  return request.headers[TRANSPORT_HEADER] === 'cookie';
}

/** The refresh cookie as this deployment sets, clears and reads it. */
export function createRefreshCookie(options: RefreshCookieOptions) {
  const publicOrigin = options.publicUrl === undefined ? undefined : new URL(options.publicUrl).origin;
  const alwaysSecure = publicOrigin?.startsWith('https:') ?? false;
  const name = alwaysSecure ? SECURE_REFRESH_COOKIE : REFRESH_COOKIE;
  const secure = (request: FastifyRequest) => alwaysSecure || request.protocol === 'https';

  return {
    name,

    set(request: FastifyRequest, reply: FastifyReply, token: string): void {
      reply.setCookie(name, token, { httpOnly: true, sameSite: 'strict', secure: secure(request), path: REFRESH_COOKIE_PATH, maxAge: options.maxAgeSeconds });
    },

    clear(request: FastifyRequest, reply: FastifyReply): void {
      reply.clearCookie(name, { httpOnly: true, sameSite: 'strict', secure: secure(request), path: REFRESH_COOKIE_PATH });
    },

    /** The refresh token of a cookie-transport request, after the CSRF checks; undefined if none. */
    read(request: FastifyRequest): string | undefined {
      const token = cookieOf(request, name);
      if (!token) return undefined;
      if (!wantsCookieTransport(request)) {
        throw new AppError('invalid_refresh_token', 'A cookie refresh must send the header X-Refresh-Transport: cookie.');
      }
      const fetchSite = request.headers['sec-fetch-site'];
      if (typeof fetchSite === 'string' && fetchSite !== 'same-origin' && fetchSite !== 'none') {
        throw new AppError('invalid_refresh_token', 'Cross-site refresh requests are refused.');
      }
      // This origin: the configured public one, or the one the request itself names (a proxy that
      // does not tell the service about https makes those differ; both are ours).
      const origin = request.headers.origin;
      if (typeof origin === 'string' && origin !== publicOrigin && origin !== `${request.protocol}://${request.host}`) {
        throw new AppError('invalid_refresh_token', 'Cross-origin refresh requests are refused.');
      }
      return token;
    },
  };
}

export type RefreshCookie = ReturnType<typeof createRefreshCookie>;
