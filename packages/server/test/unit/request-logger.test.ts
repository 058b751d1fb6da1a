import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { lazyRequestLogger } from '../../src/http/request-logger.ts';

/** A pino logger writing into an array, and a count of the child loggers made from it. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  let children = 0;
  const child = logger.child.bind(logger) as (...args: unknown[]) => unknown;
  (logger as unknown as { child: (...args: unknown[]) => unknown }).child = (...args: unknown[]) => {
    children++;
    return child(...args);
  };
  return { logger: logger as unknown as FastifyBaseLogger, lines, children: () => children };
}

test('a request logger makes its child only when the request logs, and its lines carry the request id', async () => {
  const { logger, lines, children } = capture();
  const quiet = lazyRequestLogger(logger, { reqId: 'r-1' }, {});
  assert.equal(quiet.level, 'info');
  assert.equal(children(), 0, 'no child for a request that logs nothing');

  const loud = lazyRequestLogger(logger, { reqId: 'r-2' }, {});
  loud.error({ err: new Error('boom') }, 'unhandled error');
  loud.warn('second line');
  loud.debug('below the level');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(children(), 1, 'one child, made at the first line');
  assert.deepEqual(lines.map((l) => [l.reqId, l.msg]), [['r-2', 'unhandled error'], ['r-2', 'second line']]);
  assert.equal((lines[0]!.err as { message: string }).message, 'boom');
  assert.equal(loud.child({ extra: 1 }).level, 'info');
});
