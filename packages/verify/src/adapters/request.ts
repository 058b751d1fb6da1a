import type { IncomingMessage } from 'node:http';
import type { VerifyRequestOptions } from '../verifier.ts';

export interface AdapterOptions {
  /**
   * The URL clients reach this API at (`https://api.example.com`, or with a base path). When set, a
   * DPoP proof's `htu` is compared with it plus the request's path, whatever the Host header says;
   * otherwise with the request's own scheme and Host header. Set it behind a proxy or load balancer,
   * and to keep a proof made for another host from being accepted here by a forged Host header.
   */
  publicUrl?: string;
}

const DPOP_SCHEME = /^\s*dpop\s/i;

/** The base `publicUrl` stands for: origin and path, without a trailing slash. */
export function publicBaseOf(publicUrl: string | undefined): string | undefined {
  if (publicUrl === undefined) return undefined;
  const url = new URL(publicUrl);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The `Authorization` header names the DPoP scheme (RFC 9449 §7.1; case-insensitive). */
export const usesDpopScheme = (authorization: string | undefined): authorization is string => authorization !== undefined && DPOP_SCHEME.test(authorization);

/**
 * What verify() needs to check a DPoP proof (RFC 9449 §7.1), built only for a request under the DPoP
 * scheme: a bearer request costs nothing here. `origin` is called only then (scheme and host).
 */
export function dpopRequestOf(authorization: string | undefined, method: string | undefined, path: string | undefined, dpop: string | string[] | undefined, origin: () => string, publicBase: string | undefined): VerifyRequestOptions | undefined {
  if (!usesDpopScheme(authorization)) return undefined;
  return { method, url: `${publicBase ?? origin()}${path ?? '/'}`, dpop };
}

/** A node:http request's own scheme and host (TLS socket or not; the Host header). */
export function originOf(req: IncomingMessage): string {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  return `${encrypted ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
}
