import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { errorCatalogue, problemType, type ErrorCode } from '../errors.ts';

/** The parts of a Node clientError we use; `rawPacket` (the bytes received) is deliberately absent. */
interface ClientError extends Error {
  code?: string;
  bytesParsed?: number;
}

/**
 * Node's `clientError`: a request so malformed (bad framing, an illegal header character, headers
 * too large, too slow) that it never became a request. Fastify's default handler logs the whole
 * error at trace level, and Node puts the bytes it received on it as `err.rawPacket`: the
 * Authorization header, the refresh cookie, an X-Admin-Key, a password in the body, all in clear
 * (issue 12, item 4). Here only a fixed summary is logged (the parser's error code and how far it
 * got), never the error object, its message or its bytes; the answer is a problem like every other.
 */
export function onClientError(this: { log: FastifyBaseLogger }, error: ClientError, socket: Socket): void {
  // A reset connection is already gone: nothing to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : 'validation_failed';
  // `code` is one of Node's fixed identifiers (HPE_INVALID_HEADER_TOKEN, ...); it carries no input.
  this.log.trace({ clientError: { code: typeof error.code === 'string' ? error.code.slice(0, 64) : 'unknown', bytesParsed: error.bytesParsed } }, 'malformed request refused');
  if (socket.writable) {
    const { status, title } = errorCatalogue[code];
    const body = JSON.stringify({ type: problemType(code), title, status, detail: 'The request could not be parsed as HTTP/1.1.' });
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  // end(), not destroy(error): destroying with the error would hand it (bytes included) to
  // whatever listens for socket errors, and could cut the answer off before it is flushed.
  socket.end();
  // A peer that never closes its side must not hold the socket open.
  setTimeout(() => socket.destroy(), 2000).unref();
}
