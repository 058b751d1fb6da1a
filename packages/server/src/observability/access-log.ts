import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';

/** What the one log line of an answered request says. */
export interface AccessLogEntry {
  reqId: string;
  method: string;
  /**
   * Path and query as sent, except the value of a `token` query parameter (logUrl). The API takes
   * no credential in a URL; the one credential a URL carries is a password-reset link's token, when
   * its page is opened.
   */
  url: string;
  /** The client: the socket peer, or the X-Forwarded-For entry of a configured trusted proxy. */
  remoteAddress: string | undefined;
  statusCode: number;
  responseTimeMs: number;
}

export type AccessLog = ((entry: AccessLogEntry) => void) & {
  /** Writes out the lines of the current event-loop turn now (at close). */
  flush(): void;
};

const MAX_PENDING_CHARS = 64 * 1024;

const TOKEN_PARAMETER = /([?&]token=)[^&#]*/gi;

/** The URL as logged: a `token` query parameter's value (a password-reset link opened) replaced by `***`. */
export function logUrl(url: string): string {
  return url.includes('=') ? url.replace(TOKEN_PARAMETER, '$1***') : url;
}

/**
 * One line per answered request, from Fastify's onResponse hook and from the fast path
 * (http/fast-path.ts) alike, in pino's format on the app logger's own destination:
 *
 *   {"level":30,"time":…,"pid":…,"hostname":…,"reqId":…,"req":{"method":…,"url":…,"remoteAddress":…},
 *    "res":{"statusCode":…},"responseTime":…,"msg":"request completed"}
 *
 * Why not `logger.info(…)`: this line is written for every request, and through pino it cost about
 * 4 µs of CPU and 9 KB of garbage each (redaction's path matching, serializers, generic
 * stringification, one write syscall per line), as much as the rest of a session check
 * (docs/BENCHMARKS.md). Here the line is assembled from fixed fields, each value escaped by
 * JSON.stringify, and the lines of one event-loop turn are written together at its end: 0.6 µs.
 * No field can carry a credential, so nothing needs redacting; every other log line still goes
 * through pino with the redaction in http/fastify-options.ts. A crash loses at most the current turn's lines.
 */
export function createAccessLog(logger: FastifyBaseLogger): AccessLog {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { write(chunk: string): unknown } | undefined;
  // pino's own rendering of the logger's bindings (`,"pid":…,"hostname":…`), so the lines match its others.
  const bindings = (logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym];
  const infoEnabled = ['trace', 'debug', 'info'].includes(logger.level);
  let pending: string[] = [];
  let pendingChars = 0;
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    pendingChars = 0;
    stream!.write(chunk);
  };

  if (!infoEnabled || !stream || typeof bindings !== 'string') {
    // Level above info (nothing to write), or a logger that is not pino's: the generic path.
    const log: AccessLog = Object.assign(
      (entry: AccessLogEntry) => {
        if (!infoEnabled) return;
        logger.info({ reqId: entry.reqId, req: { method: entry.method, url: logUrl(entry.url), remoteAddress: entry.remoteAddress }, res: { statusCode: entry.statusCode }, responseTime: entry.responseTimeMs }, 'request completed');
      },
      { flush: () => {} },
    );
    return log;
  }

  const log = (entry: AccessLogEntry) => {
    const line =
      '{"level":30,"time":' + Date.now() + bindings +
      // Request ids and methods need no escaping: ids are ours or matched /^[\w.:-]{1,64}$/
      // (http/request-id.ts), methods are tokens Node's parser accepted.
      ',"reqId":"' + entry.reqId +
      '","req":{"method":"' + entry.method +
      '","url":' + JSON.stringify(logUrl(entry.url)) +
      (entry.remoteAddress === undefined ? '' : ',"remoteAddress":' + JSON.stringify(entry.remoteAddress)) +
      '},"res":{"statusCode":' + entry.statusCode +
      '},"responseTime":' + Math.round(entry.responseTimeMs * 1000) / 1000 +
      ',"msg":"request completed"}\n';
    pending.push(line);
    pendingChars += line.length;
    if (pendingChars >= MAX_PENDING_CHARS) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return Object.assign(log, { flush });
}
