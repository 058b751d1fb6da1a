import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VerifiedSession, Verifier } from '../verifier.ts';
import { refusal } from './refusal.ts';
import { dpopRequestOf, originOf, publicBaseOf, type AdapterOptions } from './request.ts';

// The helper takes its options on every call, so the parsed publicUrl is remembered here instead of
// parsing a URL per request (the Fastify and Express adapters parse it once, when they are made).
let memoUrl: string | undefined;
let memoBase: string | undefined;
function publicBaseFor(publicUrl: string | undefined): string | undefined {
  if (publicUrl !== memoUrl) {
    memoBase = publicBaseOf(publicUrl);
    memoUrl = publicUrl;
  }
  return memoBase;
}

/**
 * For plain `node:http`: verifies the request's access token (`Bearer`, or `DPoP` with its proof).
 * Returns the session, or answers the request itself (401/503 problem details) and returns undefined.
 *
 * ```ts
 * const session = await verifyRequest(verifier, req, res);
 * if (!session) return; // already answered
 * ```
 */
export async function verifyRequest(verifier: Verifier, req: IncomingMessage, res: ServerResponse, options: AdapterOptions = {}): Promise<VerifiedSession | undefined> {
  const header = req.headers.authorization;
  try {
    return await verifier.verify(header, dpopRequestOf(header, req.method, req.url, req.headers.dpop, () => originOf(req), publicBaseFor(options.publicUrl)));
  } catch (error) {
    const r = refusal(error, { tokenPresent: header !== undefined });
    res.writeHead(r.status, r.headers).end(JSON.stringify(r.body));
    return undefined;
  }
}
