import fp from 'fastify-plugin';
import { webhookDeliveryDefaults } from '../events/webhook-deliverer.ts';
import { PasswordResetDeliverer } from './reset-deliverer.ts';
import { createSmtpMailer } from './reset-mail.ts';

declare module 'fastify' {
  interface FastifyInstance {
    passwordResetDeliverer: PasswordResetDeliverer;
  }
}

/**
 * Password-reset links: delivered in the background from password_reset_requests, by mail
 * (SMTP_URL) or, without it, as password_reset.requested webhook events. Closes before the webhook
 * deliverer (registered after it), so a round in flight finishes while the database is open.
 */
export const resetDeliveryPlugin = fp(
  async (app) => {
    const { config } = app;
    const deliverer = new PasswordResetDeliverer(
      {
        store: app.stores.passwordResets,
        users: app.stores.users,
        clock: app.clock,
        log: app.log,
        mailer: config.mail.smtpUrl && config.mail.from ? createSmtpMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, timeoutMs: config.mail.timeoutMs }) : undefined,
        sealer: app.services.linkSealer,
      },
      {
        publicUrl: config.publicUrl,
        tokenTtlMs: config.passwordResetTokenTtlSeconds * 1000,
        pollIntervalMs: config.mail.pollIntervalMs,
        batchSize: 20,
        leaseMs: Math.max(30_000, 3 * config.mail.timeoutMs),
        retry: webhookDeliveryDefaults.retry,
        webhooks: app.webhooks !== undefined,
      },
    );
    deliverer.start();
    app.addHook('onClose', async () => deliverer.stop());
    app.decorate('passwordResetDeliverer', deliverer);
    app.metrics.provide({ passwordResets: () => ({ delivered: deliverer.deliveredTotal, failures: deliverer.failuresTotal }) });
  },
  { name: 'sessiond-reset-delivery', dependencies: ['sessiond-metrics', 'sessiond-stores', 'sessiond-services', 'sessiond-webhooks'] },
);
