import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Redis } from 'ioredis';
import { sql, type Kysely } from 'kysely';
import { Type } from 'typebox';
import { createMigrator } from '../database/database.ts';
import type { Database } from '../database/tables.ts';

export interface HealthOptions {
  db: Kysely<Database>;
  redis: Redis | undefined;
}

const Check = Type.Union([Type.Literal('ok'), Type.String()], { description: '"ok", or what is wrong' });
const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
    checks: Type.Object({ database: Check, migrations: Check, redis: Type.Optional(Check) }),
  },
  { additionalProperties: false },
);

/** Bounds a probe so /ready answers quickly even when a dependency hangs. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  return Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 200);

/**
 * /health: the process is alive (for restarts). /ready: it can serve (for load balancers): the
 * database answers, every migration is applied, and Redis answers when it is configured.
 */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, { db, redis }) => {
  app.get('/health', {
    config: { public: true },
    schema: {
      operationId: 'Meta_health',
      tags: ['Meta'],
      summary: 'Liveness: the process is up',
      description: 'Answers 200 while the process runs, whatever its backends do (for restarts; use /ready for traffic).',
      response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process is up', examples: [{ status: 'ok' }] }) },
    },
  }, async () => ({ status: 'ok' as const }));

  app.get('/ready', {
    config: { public: true },
    schema: {
      operationId: 'Meta_ready',
      tags: ['Meta'],
      summary: 'Readiness: database reachable, migrations current, Redis reachable when configured',
      description: 'For load balancers: 200 when every check says ok, 503 with the failing checks otherwise.',
      response: { 200: { description: 'Ready: every check says ok', ...Readiness }, 503: { description: 'Not ready: the failing checks say why', ...Readiness } },
    },
  }, async (_request, reply) => {
    const checks: { database: string; migrations: string; redis?: string } = { database: 'ok', migrations: 'ok' };
    try {
      await within(2000, sql`select 1`.execute(db));
    } catch (error) {
      checks.database = message(error);
    }
    if (checks.database === 'ok') {
      try {
        const pending = (await within(2000, createMigrator(db).getMigrations())).filter((m) => !m.executedAt);
        if (pending.length > 0) checks.migrations = `pending: ${pending.map((m) => m.name).join(', ')}`;
      } catch (error) {
        checks.migrations = message(error);
      }
    } else {
      checks.migrations = 'unknown (database unreachable)';
    }
    if (redis) {
      try {
        await within(1000, redis.ping());
        checks.redis = 'ok';
      } catch (error) {
        checks.redis = message(error);
      }
    }
    const ready = Object.values(checks).every((c) => c === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
};
