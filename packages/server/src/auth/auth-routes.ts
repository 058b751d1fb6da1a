import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireBearer, principalOf } from '../http/authenticate.ts';
import type { FastRoute } from '../http/fast-path.ts';
import { problemResponses, ref } from '../http/problem.ts';
import { iso } from '../http/serialize.ts';
import type { SessionService } from '../sessions/session-service.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import type { Dpop } from '../dpop/dpop-http.ts';
import type { User as UserValue } from '../users/user.ts';
import { AuthResult, ChangePasswordBody, DeleteAccountBody, LoginBody, Me, RefreshBody, RegisterBody, TokenPair } from './auth-schemas.ts';
import { RevokeAllResult } from '../sessions/session-schemas.ts';
import type { AuthService, ClientInfo, IssuedTokens } from './auth-service.ts';
import { AppError } from '../errors.ts';
import { deviceCookieOf, setDeviceCookie } from './device-cookie.ts';
import { RefreshCookie, refreshCookieHeaders, RefreshTransportHeaders, wantsCookieTransport } from './refresh-cookie.ts';

export interface AuthRoutesOptions {
  auth: AuthService;
  /** The browser transport's cookie (auth/refresh-cookie.ts). */
  refreshCookie: RefreshCookie;
  sessions: SessionService;
  accessTokens: AccessTokens;
  dpop: Dpop;
}

/** The client of a request as a session records it: its address and User-Agent. */
export const clientOf = (request: FastifyRequest): ClientInfo => ({
  ipAddress: request.ip ?? null,
  userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null,
});

export const userJson = (u: UserValue) => ({ id: u.id, email: u.email, name: u.name, createdAt: iso(u.createdAtMs) });
/** The answer of GET /auth/me, from both paths. */
const meJson = (user: UserValue, sessionId: string) => ({ user: userJson(user), sessionId });

/** GET /auth/me as the fast path answers it when memory can (http/fast-path.ts). */
export function authFastRoutes(auth: AuthService): FastRoute[] {
  return [{
    path: '/auth/me',
    route: '/auth/me',
    answer: (principal) => {
      const user = auth.meCached(principal.userId);
      return user && meJson(user, principal.sessionId);
    },
  }];
}

export const tokenJson = (t: IssuedTokens, { refreshInBody = true }: { refreshInBody?: boolean } = {}) => ({
  sessionId: t.sessionId,
  accessToken: t.accessToken,
  ...(refreshInBody ? { refreshToken: t.refreshToken } : {}),
  tokenType: t.dpopJkt === null ? ('Bearer' as const) : ('DPoP' as const),
  expiresIn: t.expiresInSeconds,
});

const dpopNote =
  ' With a `DPoP` proof header (RFC 9449: ES256 or EdDSA), the session is bound to the proof\'s key: `tokenType` is `DPoP`, ' +
  'its refresh needs a proof by the same key and its access token is sent as `Authorization: DPoP` with a proof (README, Device-bound sessions). ' +
  'An invalid proof is 400 `invalid_dpop_proof`; when nonces are required, 400 `use_dpop_nonce` with the nonce in `DPoP-Nonce` (RFC 9449 §5, §8).';

const browserTransportNote =
  ' With the header `X-Refresh-Transport: cookie` (browsers), the refresh token is set as an HttpOnly, SameSite=Strict cookie scoped to /auth/refresh and left out of the body.';

// Responses carrying tokens must never be stored by a cache (RFC 6749 §5.1).
export const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { auth, sessions, accessTokens, dpop, refreshCookie }) => {
  /** Sends issued tokens in the transport the client asked for. */
  const sendTokens = (request: FastifyRequest, reply: import('fastify').FastifyReply, tokens: IssuedTokens, extra: Record<string, unknown> = {}) => {
    const cookie = wantsCookieTransport(request);
    if (cookie) refreshCookie.set(request, reply, tokens.refreshToken);
    return reply.headers(noStore).send({ ...extra, ...tokenJson(tokens, { refreshInBody: !cookie }) });
  };

  app.post('/auth/register', {
    config: { public: true },
    schema: {
      operationId: 'AuthController_register',
      tags: ['Auth'],
      summary: 'Create an account and sign in (starts a session)',
      description: 'Duplicate email (case-insensitive): 409. Password of 8 to 128 characters.' + browserTransportNote + dpopNote,
      body: ref(RegisterBody),
      headers: RefreshTransportHeaders,
      response: { 201: { description: 'Account created and signed in', headers: refreshCookieHeaders, ...ref(AuthResult) }, ...problemResponses(400, 409, 413, 415, 429) },
    },
  }, async (request, reply) => {
    const dpopJkt = await dpop.bindingOf(request, reply);
    const { user, tokens, deviceCookie } = await auth.register(request.body, clientOf(request), { deviceCookie: deviceCookieOf(request), dpopJkt });
    setDeviceCookie(request, reply, deviceCookie);
    return sendTokens(request, reply.code(201), tokens, { user: userJson(user) });
  });

  app.post('/auth/login', {
    config: { public: true },
    schema: {
      operationId: 'AuthController_login',
      tags: ['Auth'],
      summary: 'Sign in with email and password (every sign-in is a new session)',
      description:
        'Wrong email and wrong password get the same 401. Attempts are limited per account (429 with `Retry-After`, doubling up to 60 s); ' +
        'a client that signed in to the account before presents its device cookie (`sessiond_device`, set by every successful sign-in) and has a budget of its own.' +
        browserTransportNote + dpopNote,
      body: ref(LoginBody),
      headers: RefreshTransportHeaders,
      response: { 200: { description: 'Signed in: a new session', headers: refreshCookieHeaders, ...ref(AuthResult) }, ...problemResponses(400, 401, 409, 413, 415, 429) },
    },
  }, async (request, reply) => {
    const dpopJkt = await dpop.bindingOf(request, reply);
    const { user, tokens, deviceCookie } = await auth.login(request.body, clientOf(request), { deviceCookie: deviceCookieOf(request), dpopJkt });
    setDeviceCookie(request, reply, deviceCookie);
    return sendTokens(request, reply, tokens, { user: userJson(user) });
  });

  app.post('/auth/refresh', {
    config: { public: true },
    schema: {
      operationId: 'AuthController_refresh',
      tags: ['Auth'],
      summary: 'Exchange a refresh token for new tokens (same session; the old refresh token is used up)',
      description:
        'Send {refreshToken} in the body, or (browsers) an empty object with the refresh cookie and `X-Refresh-Transport: cookie`. ' +
        'Replaying the previous token within the grace window returns the same new token; an older token revokes the session. ' +
        'A key-bound session needs a `DPoP` proof by its key; without one, or with a valid proof by another key, its refresh token is refused like an invalid one (401, recorded as `refresh_token.unbound_use`). ' +
        'An invalid proof is 400 `invalid_dpop_proof` (or `use_dpop_nonce` with `DPoP-Nonce`), whatever the token (RFC 9449 §5, §8).',
      body: ref(RefreshBody),
      headers: RefreshTransportHeaders,
      cookies: RefreshCookie,
      response: { 200: { description: 'New tokens for the same session', headers: refreshCookieHeaders, ...ref(TokenPair) }, ...problemResponses(400, 401, 413, 415, 429) },
    },
  }, async (request, reply) => {
    const presented = request.body.refreshToken ?? refreshCookie.read(request);
    try {
      // The proof is checked first, whatever the token: its refusal (400) says nothing about the token.
      const proof = await dpop.refreshProof(request, reply);
      const tokens = await auth.refresh(presented, clientOf(request), { dpopJkt: proof?.jkt });
      return sendTokens(request, reply, tokens);
    } catch (error) {
      // Cleared only when the session is over for good (the token is invalid, revoked, expired or
      // reused: invalid_refresh_token), so the page falls back to sign-in cleanly. A 429 or an
      // outage (5xx) says nothing about the session: the cookie stays and the page can retry.
      const over = error instanceof AppError && error.code === 'invalid_refresh_token';
      if (over && request.body.refreshToken === undefined && wantsCookieTransport(request)) refreshCookie.clear(request, reply);
      throw error;
    }
  });

  // Protected: everything registered in this scope passes the bearer check first.
  await app.register(async (scope) => {
    requireBearer(scope, { accessTokens, sessions, dpop });

    scope.post('/auth/logout', {
      schema: {
        operationId: 'AuthController_logout',
        tags: ['Auth'],
        summary: 'Sign out: revoke the current session',
        description: 'Revokes the session of the token used (its access tokens fail from the next request) and clears the refresh cookie.',
        security: [{ 'JWT-auth': [] }],
        response: { 204: { description: 'Signed out', headers: refreshCookieHeaders, type: 'null' }, ...problemResponses(401) },
      },
    }, async (request, reply) => {
      await auth.logout(principalOf(request));
      refreshCookie.clear(request, reply);
      return reply.code(204).send();
    });

    // The scope's own type provider: these two routes take typed bodies.
    const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
    typed.post('/auth/password', {
      schema: {
        operationId: 'AuthController_changePassword',
        tags: ['Auth'],
        summary: 'Change the password; every other session of the account ends (reason password_changed)',
        description:
          'The current password is required (a wrong one: 403, counted like a failed sign-in). The new one follows the sign-up policy (400). ' +
          'This session stays signed in; every other one is revoked at once.',
        security: [{ 'JWT-auth': [] }],
        body: ref(ChangePasswordBody),
        response: { 200: { description: 'Password changed; how many other sessions were ended', ...ref(RevokeAllResult) }, ...problemResponses(400, 401, 403, 413, 415, 429) },
      },
    }, async (request) => auth.changePassword(principalOf(request), request.body));

    typed.delete('/auth/me', {
      schema: {
        operationId: 'AuthController_deleteAccount',
        tags: ['Auth'],
        summary: 'Delete the account: every session ends at once (reason account_deleted), then the account is deleted',
        description:
          'The password is required in the body (a wrong one: 403, counted like a failed sign-in). Every token of the account is refused from the next request on, ' +
          'on every instance. The email, name and password hash are erased at once; ended sessions and events stay for their retention (the audit log).',
        security: [{ 'JWT-auth': [] }],
        body: ref(DeleteAccountBody),
        response: { 204: { description: 'Account deleted', type: 'null' }, ...problemResponses(400, 401, 403, 413, 415, 429) },
      },
    }, async (request, reply) => {
      await auth.deleteAccount(principalOf(request), request.body.password);
      refreshCookie.clear(request, reply);
      return reply.code(204).send(null);
    });

    scope.get('/auth/me', {
      schema: {
        operationId: 'AuthController_me',
        tags: ['Auth'],
        summary: 'The signed-in user and the current session id',
        description: 'The account of the token used and the id of its session; 401 once that session is revoked or expired.',
        security: [{ 'JWT-auth': [] }],
        response: { 200: { description: 'The signed-in user', ...ref(Me) }, ...problemResponses(401) },
      },
    }, (request, reply) => {
      const principal = principalOf(request);
      // From memory without a promise when the user is cached; otherwise read.
      const user = auth.meCached(principal.userId);
      if (user) {
        // Sent, and undefined returned: Fastify then awaits nothing (a returned reply is a thenable).
        reply.send(meJson(user, principal.sessionId));
        return;
      }
      return auth.me(principal).then((read) => meJson(read, principal.sessionId));
    });
  });
};
