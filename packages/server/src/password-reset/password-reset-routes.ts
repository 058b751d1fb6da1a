import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { clientOf } from '../auth/auth-routes.ts';
import { problemResponses, ref } from '../http/problem.ts';
import { PasswordResetAccepted, PasswordResetConfirm, PasswordResetRequest } from './password-reset-schemas.ts';
import type { PasswordResetService } from './password-reset-service.ts';

export interface PasswordResetRoutesOptions {
  resets: PasswordResetService;
}

/** The one answer to every accepted reset request, whether or not the email has an account. */
const accepted = { message: 'If an account has this email address, a link to choose a new password is on its way. It works for 30 minutes.' };

export const passwordResetRoutes: FastifyPluginAsyncTypebox<PasswordResetRoutesOptions> = async (app, { resets }) => {
  app.post('/auth/password-reset', {
    config: { public: true },
    schema: {
      operationId: 'AuthController_requestPasswordReset',
      tags: ['Auth'],
      summary: 'Ask for a password reset link (sent by mail, or as a webhook event)',
      description:
        'Always 202 with the same body, whether or not the email has an account; the link is delivered in the background. ' +
        'Rate-limited per client address and per email.',
      body: ref(PasswordResetRequest),
      response: { 202: { description: 'Accepted', ...ref(PasswordResetAccepted) }, ...problemResponses(400, 413, 415, 429) },
    },
  }, async (request, reply) => {
    await resets.request(request.body.email, clientOf(request));
    return reply.code(202).send(accepted);
  });

  app.post('/auth/password-reset/confirm', {
    config: { public: true },
    schema: {
      operationId: 'AuthController_confirmPasswordReset',
      tags: ['Auth'],
      summary: 'Set a new password with a reset token; ends every session of the account',
      description: 'A used, replaced, expired or unknown token: the same 400. A password refused by the policy: 400, and the token stays usable.',
      body: ref(PasswordResetConfirm),
      response: { 204: { description: 'Password set; every session ended', type: 'null' }, ...problemResponses(400, 413, 415, 429) },
    },
  }, async (request, reply) => {
    await resets.confirm(request.body.token, request.body.newPassword, clientOf(request));
    // A 204 has no body (Fastify sends none for null).
    return reply.code(204).send(null);
  });
};
