import fp from 'fastify-plugin';
import { backgroundErrorLogger } from '../observability/background-errors.ts';

/**
 * The sweeper: every PURGE_INTERVAL_SECONDS, marks sessions past their lifetime as expired and
 * deletes ended ones past their retention (SessionService.sweep), in bounded batches; a round still
 * running when the next is due is not doubled. Off with PURGE_INTERVAL_SECONDS=0 (tests call sweep).
 */
export const sweeperPlugin = fp(
  async (app) => {
    const { config } = app;
    const { sessions } = app.services;
    if (config.purgeIntervalSeconds <= 0) return;
    const logError = backgroundErrorLogger(app.log);
    let sweeping = false;
    const timer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      sessions
        .sweep({ retentionMs: config.sessionHistoryRetentionSeconds * 1000, batchSize: 1000, maxBatches: 10 })
        .catch(logError)
        .finally(() => {
          sweeping = false;
        });
    }, config.purgeIntervalSeconds * 1000);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  },
  { name: 'sessiond-sweeper', dependencies: ['sessiond-services'] },
);
