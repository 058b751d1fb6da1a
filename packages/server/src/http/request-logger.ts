import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'fastify/types/logger.js';

/**
 * `request.log` made only when a request logs something. Fastify's default makes a pino child
 * logger for every request (its bindings serialised up front), which cost a few percent of a
 * session check (docs/BENCHMARKS.md), and almost no request logs through it: the one line per
 * request is the access log (observability/access-log.ts). The first call makes the same child
 * Fastify would have made, so a line logged here carries the request id exactly as before.
 */
class RequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

// The logging methods on the prototype, not per-instance closures: one small object per request.
for (const name of ['info', 'error', 'warn', 'debug', 'trace', 'fatal', 'silent'] as const) {
  Object.defineProperty(RequestLogger.prototype, name, {
    value(this: RequestLogger, ...args: unknown[]) {
      const real = this.real;
      Reflect.apply(real[name], real, args);
    },
  });
}

/** Fastify's `childLoggerFactory` option: a request's logger, made on first use. */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
