import type { IncomingMessage, ServerResponse } from 'node:http';
import { immediateCheckOf, type VerifiedSession, type Verifier } from '../verifier.ts';
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
export function verifyRequest(verifier: Verifier, req: IncomingMessage, res: ServerResponse, options: AdapterOptions = {}): Promise<VerifiedSession | undefined> {
  const header = req.headers.authorization;
  // Refusals are answered in a promise of their own: an error in answering (a response already
  // sent) becomes a rejection, as from any async function, never a synchronous throw.
  const refuse = async (error: unknown): Promise<undefined> => {
    const r = refusal(error, { tokenPresent: header !== undefined });
    res.writeHead(r.status, r.headers).end(JSON.stringify(r.body));
    return undefined;
  };
  try {
    const request = dpopRequestOf(header, req.method, req.url, req.headers.dpop, () => originOf(req), publicBaseFor(options.publicUrl));
    const check = immediateCheckOf(verifier);
    const result = check ? check(header, request) : verifier.verify(header, request);
    // One promise per request when memory decides (a cache hit with a live stream): see immediateCheckOf.
    return result instanceof Promise ? result.catch(refuse) : Promise.resolve(result);
  } catch (error) {
    return refuse(error);
  }
}
