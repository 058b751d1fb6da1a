import fp from 'fastify-plugin';
import { VERSION } from '../version.ts';
import { createKyselyWebhookCursorStore } from './kysely-webhook-cursor-store.ts';
import { WebhookDeliverer } from './webhook-deliverer.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Webhook delivery from the outbox; undefined without WEBHOOK_URLS. */
    webhooks: WebhookDeliverer | undefined;
  }
}

/**
 * Webhooks: delivered in the background from the session_events outbox (events/webhook-deliverer.ts).
 * Closing lets a delivery in flight finish and record its cursor while the database is still open
 * (it was registered before, so it closes after).
 */
export const webhookPlugin = fp(
  async (app) => {
    const { config, clock } = app;
    const { linkSealer } = app.services;
    if (config.webhooks.urls.length === 0) {
      app.decorate('webhooks', undefined);
      return;
    }
    const webhooks = new WebhookDeliverer(
      {
        events: app.stores.events,
        cursors: createKyselyWebhookCursorStore(app.database.db),
        clock,
        log: app.log,
        // A reset event's link is stored sealed and sent opened (password-reset/reset-token.ts).
        revealData: (event) => {
          if (event.type !== 'password_reset.requested' || typeof event.data.sealedLink !== 'string') return event.data;
          const { sealedLink, ...rest } = event.data;
          return { ...rest, link: linkSealer.open(sealedLink) ?? null };
        },
      },
      { endpoints: config.webhooks.urls, secret: config.webhooks.secret ?? '', pollIntervalMs: config.webhooks.pollIntervalMs, timeoutMs: config.webhooks.timeoutMs, userAgent: `sessiond/${VERSION}` },
    );
    await webhooks.init();
    webhooks.start();
    app.addHook('onClose', async () => webhooks.stop());
    app.decorate('webhooks', webhooks);
    app.metrics.provide({ webhooks: () => ({ lagSeconds: webhooks.lagMs / 1000, failures: webhooks.failuresTotal }) });
  },
  { name: 'sessiond-webhooks', dependencies: ['sessiond-metrics', 'sessiond-database', 'sessiond-stores', 'sessiond-services'] },
);
