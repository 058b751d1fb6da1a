import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VerifiedSession, Verifier } from '../verifier.ts';
import { refusal } from './refusal.ts';

/** The request as the Express/Connect middleware leaves it. */
export type RequestWithSession = IncomingMessage & { sessiond?: VerifiedSession };

/**
 * Express / Connect middleware: on success sets `req.sessiond` and calls `next()`; a refused request
 * is answered here (401/503 problem details) and `next` is not called. Named `sessiond`, not
 * `session`, so it cannot collide with express-session.
 */
export function sessiondMiddleware(verifier: Verifier) {
  return (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    const header = req.headers.authorization;
    verifier.verify(header).then(
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
