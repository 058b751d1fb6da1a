import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminUserJson } from '../admin/admin-routes.ts';
import { AdminUser, UserIdParams } from '../admin/admin-schemas.ts';
import { problemResponses, ref } from '../http/problem.ts';
import { requireServiceKey } from '../service-keys/require-service-key.ts';
import type { ServiceKeyStore } from '../service-keys/service-key-store.ts';
import type { SessionService } from '../sessions/session-service.ts';
import { noStore, tokenJson, userJson } from './auth-routes.ts';
import { AuthResult } from './auth-schemas.ts';
import type { AuthService } from './auth-service.ts';
import { EmailParams, IssueSessionRequest, ProvisionUserRequest } from './issued-session-schemas.ts';

export interface IssuedSessionRoutesOptions {
  auth: AuthService;
  sessions: SessionService;
  serviceKeys: ServiceKeyStore;
}

const security = [{ 'service-key': [] }];
const tags = ['Admin'];

/**
 * "Bring your own sign-in": the application's backend, having authenticated a user itself (OAuth,
 * SAML, a magic link), creates the user if needed and starts a sessiond session for them. The
 * paths sit under /admin beside the other user operations, but this scope is authorised only by a
 * service key holding `sessions:issue` (its own hook; the admin scope's X-Admin-Key hook does not
 * run here). An admin key does not work: operators manage sessions, they do not sign in as users.
 */
export const issuedSessionRoutes: FastifyPluginAsyncTypebox<IssuedSessionRoutesOptions> = async (app, { auth, sessions, serviceKeys }) => {
  requireServiceKey(app, { keys: serviceKeys, requiredScope: 'sessions:issue' });

  app.put('/admin/users/by-email/:email', {
    schema: {
      operationId: 'AdminController_provisionUser',
      tags,
      security,
      summary: 'Create a user without a password, or return the user with this email (service key with sessions:issue)',
      description: 'name and externalId apply only when the user is created; an existing user is returned unchanged (200). The user can set a password later only through a password reset.',
      params: EmailParams,
      body: ref(ProvisionUserRequest),
      response: {
        200: { description: 'The existing user', ...ref(AdminUser) },
        201: { description: 'The user, created', ...ref(AdminUser) },
        ...problemResponses(400, 401, 403, 409, 413, 415),
      },
    },
  }, async (request, reply) => {
    const { user, created } = await auth.provisionUser({ email: request.params.email, ...request.body });
    return reply.code(created ? 201 : 200).send(await adminUserJson(user, sessions));
  });

  app.post('/admin/users/:userId/sessions', {
    schema: {
      operationId: 'AdminController_issueSession',
      tags,
      security,
      summary: 'Start a session for a user the application authenticated itself (service key with sessions:issue)',
      description:
        'Answers exactly what a sign-in answers. The session is like any other (refresh, lifetimes, limits, revocation, events); ' +
        '`authMethod` is in its JSON, in the access token (`amr`) and in its events.',
      params: UserIdParams,
      body: ref(IssueSessionRequest),
      response: { 201: { description: 'Signed in: a new session', ...ref(AuthResult) }, ...problemResponses(400, 401, 403, 404, 409, 413, 415) },
    },
  }, async (request, reply) => {
    const { ipAddress, userAgent, authMethod } = request.body;
    const { user, tokens } = await auth.issueSession(request.params.userId, { ipAddress, userAgent }, authMethod);
    // The refresh token always travels in the body: the caller is a backend, not a browser.
    return reply.code(201).headers(noStore).send({ user: userJson(user), ...tokenJson(tokens) });
  });
};
