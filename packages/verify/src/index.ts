export { createVerifier, type Verifier, type VerifierOptions, type VerifiedSession, type VerifierStatus, type VerifyRequestOptions } from './verifier.ts';
export { VerifyError, type VerifyErrorCode } from './errors.ts';
export { refusal, type Refusal, type RefusalProblem } from './adapters/refusal.ts';
export { verifyRequest } from './adapters/node-http.ts';
export { sessiondMiddleware, type RequestWithSession } from './adapters/express.ts';
export { sessiondPlugin, type SessiondPluginOptions } from './adapters/fastify.ts';
export type { AdapterOptions } from './adapters/request.ts';
