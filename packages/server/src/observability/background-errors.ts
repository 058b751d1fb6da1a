import type { FastifyBaseLogger } from 'fastify';

/** How a background unit (feed, streams, sweeper, reloader) reports a failed round: one log line, no crash. */
export function backgroundErrorLogger(log: FastifyBaseLogger): (error: unknown) => void {
  return (error) => log.error({ err: error }, 'background task failed');
}
