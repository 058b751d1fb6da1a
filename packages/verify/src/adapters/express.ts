import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VerifiedSession, Verifier } from '../verifier.ts';
import { refusal } from './refusal.ts';
import { dpopRequestOf, originOf, publicBaseOf, type AdapterOptions } from './request.ts';

/** The request as the Express/Connect middleware leaves it. */
export type RequestWithSession = IncomingMessage & { sessiond?: VerifiedSession };

/**
 * Express / Connect middleware (bearer and DPoP-bound tokens; `options.publicUrl` as in AdapterOptions): on success sets `req.sessiond` and calls `next()`; a refused request
 * is answered here (401/503 problem details) and `next` is not called. Named `sessiond`, not
 * `session`, so it cannot collide with express-session.
 */
export function sessiondMiddleware(verifier: Verifier, options: AdapterOptions = {}) {
  const publicBase = publicBaseOf(options.publicUrl);
  return (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    const header = req.headers.authorization;
    // Express rewrites req.url under a mounted router; originalUrl is what the client sent.
    const path = (req as { originalUrl?: string }).originalUrl ?? req.url;
    verifier.verify(header, dpopRequestOf(header, req.method, path, req.headers.dpop, () => originOf(req), publicBase)).then(
      (session) => {
        (req as RequestWithSession).sessiond = session;
        next();
      },
      (error) => {
        const r = refusal(error, { tokenPresent: header !== undefined });
        res.writeHead(r.status, r.headers).end(JSON.stringify(r.body));
      },
    );
  };
}
