import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieOf } from '../http/cookies.ts';

/**
 * The device cookie's HTTP side (its content and meaning: abuse/device-cookies.ts). Sent only to
 * sign-in (Path=/auth/login), never readable by page scripts (HttpOnly), never on cross-site
 * requests (SameSite=Strict). It grants nothing by itself: it only selects which attempt budget a
 * sign-in with the right password spends.
 */
export const DEVICE_COOKIE = 'sessiond_device';
const DEVICE_COOKIE_PATH = '/auth/login';
/** A device stays known this long after its last successful sign-in. */
const DEVICE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600;

export function deviceCookieOf(request: FastifyRequest): string | undefined {
  return cookieOf(request, DEVICE_COOKIE);
}

export function setDeviceCookie(request: FastifyRequest, reply: FastifyReply, value: string): void {
  reply.setCookie(DEVICE_COOKIE, value, {
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    path: DEVICE_COOKIE_PATH,
    maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS,
  });
}
