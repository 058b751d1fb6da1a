import type { FastifyReply, FastifyRequest } from 'fastify';

/** The most of an unread body read and discarded after an early answer, in bytes and in time. */
export const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
export const DRAIN_MAX_MS = 5000;

/**
 * An error answered before the request body was read (413 on its Content-Length, a body refused
 * halfway, a hook refusing the request): Fastify marks such answers `Connection: close`, and Node
 * then closes the socket as soon as the answer is written, while the client is still uploading. The
 * bytes left unread make the kernel reset the connection, and a client that is still writing (Node's
 * fetch) reports the reset instead of the answer: 39 of 60 tries with a 10 MB sign-in body (issue 12,
 * item 11; test/http/large-bodies.test.ts).
 *
 * So the rest of the body is read and thrown away, and the connection is kept for the next request,
 * as HTTP/1.1 allows once the body is consumed. Bounded, so an endless or slow upload cannot hold
 * the connection: past DRAIN_MAX_BYTES or DRAIN_MAX_MS the socket is closed after all (the answer has
 * been written by then; only such a client may miss it).
 */
export function drainUnreadBody(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  if (raw.complete || raw.destroyed) return;
  reply.removeHeader('connection');
  const socket = raw.socket;
  let drained = 0;
  const stop = () => {
    clearTimeout(timer);
    raw.off('data', count);
  };
  const giveUp = () => {
    stop();
    if (!raw.complete) socket.destroy();
  };
  const count = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_MAX_BYTES) giveUp();
  };
  const timer = setTimeout(giveUp, DRAIN_MAX_MS);
  timer.unref();
  raw.on('data', count);
  raw.once('end', stop);
  raw.once('close', stop);
  raw.resume();
}
