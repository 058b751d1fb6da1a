import type { IncomingMessage, ServerResponse } from 'node:http';
import { immediateCheckOf, type VerifiedSession, type Verifier } from '../verifier.ts';
import { refusal } from './refusal.ts';
import { dpopRequestOf, originOf, publicBaseOf, usesDpopScheme, type AdapterOptions } from './request.ts';

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
export function verifyRequest(verifier: Verifier, req: IncomingMessage, res: ServerResponse, options?: AdapterOptions): Promise<VerifiedSession | undefined> {
  const header = req.headers.authorization;
  try {
    // Only a request under the DPoP scheme needs its method, URL and proof.
    const request = usesDpopScheme(header) ? dpopRequestOf(header, req.method, req.url, req.headers.dpop, () => originOf(req), publicBaseFor(options?.publicUrl)) : undefined;
    const check = immediateCheckOf(verifier);
    // One promise per request when memory decides (a cache hit with a live stream): see
    // immediateCheckOf. Any other Verifier (a wrapper, a test double) is awaited, whatever its promise.
    const result = check ? check(header, request) : Promise.resolve(verifier.verify(header, request));
    if (!(result instanceof Promise)) return Promise.resolve(result);
    return result.catch((error: unknown) => answerRefusal(error, header, res));
  } catch (error) {
    return answerRefusal(error, header, res);
  }
}

/**
 * Answers a refused request. Async so that an error in answering (a response already sent) becomes
 * a rejection, as from any async function, never a synchronous throw.
 */
async function answerRefusal(error: unknown, header: string | undefined, res: ServerResponse): Promise<undefined> {
  const r = refusal(error, { tokenPresent: header !== undefined });
  res.writeHead(r.status, r.headers).end(JSON.stringify(r.body));
  return undefined;
}
