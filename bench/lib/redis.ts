import net from 'node:net';
import { defaultConfig } from '../../packages/server/src/config.ts';

/**
 * Redis for PostgreSQL mode: used when this sessiond supports REDIS_URL and something answers PING
 * at BENCH_REDIS_URL (default: database 15 of the machine's Redis, apart from the tests' keys).
 * Returns the URL (or none) and the sentence the report states about it.
 */
export async function benchRedis(): Promise<{ url: string | undefined; text: string }> {
  const candidate = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
  if (!('redisUrl' in defaultConfig)) {
    return { url: undefined, text: 'Redis not used: this sessiond has no REDIS_URL support, so PostgreSQL mode is PostgreSQL alone' };
  }
  if (!(await answersPing(candidate))) {
    return { url: undefined, text: `Redis not used: nothing answers at ${candidate}, so PostgreSQL mode is PostgreSQL alone` };
  }
  return {
    url: candidate,
    text: `PostgreSQL mode also has \`REDIS_URL=${candidate}\` (revocation push and rate-limit counters; the measured requests do not read Redis)`,
  };
}

function answersPing(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
