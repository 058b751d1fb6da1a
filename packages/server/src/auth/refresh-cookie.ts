import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
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
 */
export const REFRESH_COOKIE = 'sessiond_refresh';
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
      '(and `Secure` when the service sees https or PUBLIC_URL is https); sign-out and a refused cookie refresh clear it.',
  },
};

export function wantsCookieTransport(request: FastifyRequest): boolean {
  return request.headers[TRANSPORT_HEADER] === 'cookie';
}

export function setRefreshCookie(request: FastifyRequest, reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  reply.setCookie(REFRESH_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    path: REFRESH_COOKIE_PATH,
    maxAge: maxAgeSeconds,
  });
}

export function clearRefreshCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(REFRESH_COOKIE, { httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https', path: REFRESH_COOKIE_PATH });
}

/** The refresh token of a cookie-transport request, after the CSRF checks; undefined if none. */
export function refreshTokenFromCookie(request: FastifyRequest): string | undefined {
  const token = request.cookies?.[REFRESH_COOKIE];
  if (!token) return undefined;
  if (!wantsCookieTransport(request)) {
    throw new AppError('invalid_refresh_token', 'A cookie refresh must send the header X-Refresh-Transport: cookie.');
  }
  const fetchSite = request.headers['sec-fetch-site'];
  if (typeof fetchSite === 'string' && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    throw new AppError('invalid_refresh_token', 'Cross-site refresh requests are refused.');
  }
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== `${request.protocol}://${request.host}`) {
    throw new AppError('invalid_refresh_token', 'Cross-origin refresh requests are refused.');
  }
  return token;
}
