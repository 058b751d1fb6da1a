import { Writable } from 'node:stream';

/** What an app logged, captured from the stream given as its logger's destination. */
export interface LogCapture {
  /** The logger's destination: pass as `deps.logger.stream`. */
  stream: Writable;
  /** Chunks as written (the request log writes a turn's lines in one chunk); callers may splice it. */
  chunks: string[];
  /** Everything written, as one string. */
  text(): string;
  /** The JSON log lines, one object per line, whatever the chunking. */
  lines(): Array<Record<string, any>>;
}

export function captureLogs(): LogCapture {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    chunks,
    text,
    lines: () => text().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>),
  };
}
