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

/** Whether Redis answers a PING within 1 s: 'ok', or what is wrong (never hangs: /ready and /metrics use it). */
export async function redisCheck(redis: Redis): Promise<string> {
  try {
    await within(1000, redis.ping());
    return 'ok';
  } catch (error) {
    return message(error);
  }
}

/**
 * /health: the process is alive (for restarts). /ready: it can serve (for load balancers): the
 * database answers and every migration is applied. Redis is reported but does not decide: without
 * it the service still serves correctly (revocations propagate through LISTEN/NOTIFY and the
 * database feed, rate-limit counters fall back to memory), and a shared Redis outage answering 503
 * everywhere would take every instance out of the load balancer at once.
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
      summary: 'Readiness: database reachable and migrations current (503 otherwise); Redis reported, not required',
      description: 'For load balancers: 200 while this instance can serve correctly (Redis down is reported in the body, not a reason to take the instance out), 503 with the failing checks otherwise.',
      response: { 200: { description: 'Ready (Redis may be reported degraded)', ...Readiness }, 503: { description: 'Not ready: the failing checks say why', ...Readiness } },
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
    const ready = checks.database === 'ok' && checks.migrations === 'ok';
    if (redis) {
      const redisState = await redisCheck(redis);
      checks.redis = redisState === 'ok' ? 'ok' : `degraded (served without Redis): ${redisState}`;
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
};
