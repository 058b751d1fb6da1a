import http from 'node:http';
import type { HttpResult } from './http.ts';

export interface RawRequestOptions {
  headers?: Record<string, string>;
  /** Sent as is; a string or chunks. Chunks without a content-length go out chunked. */
  body?: string | Buffer | Buffer[];
  /** Give up (and fail) after this long: a hostile request must never hang the server. */
  timeoutMs?: number;
}

/**
 * A request exactly as written, through node:http instead of fetch: fetch normalises paths
 * (`/a/../b`), refuses bodies on GET and always sets a content-length. Returns the HttpClient's
 * result shape.
 */
export function rawRequest(baseUrl: string, method: string, path: string, options: RawRequestOptions = {}): Promise<HttpResult> {
  const url = new URL(baseUrl);
  const headers = { ...options.headers };
  const { body } = options;
  // Frame the body explicitly: node:http sends the body of a GET or DELETE unframed by default,
  // which the server would rightly read as the start of a second request.
  if (Array.isArray(body)) headers['transfer-encoding'] = 'chunked';
  else if (body !== undefined) headers['content-length'] ??= String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    // A fresh connection per request (agent: false): no request can inherit another's leftovers.
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve({ status: res.statusCode ?? 0, headers: responseHeaders, body: parsed, text });
      });
    });
    req.setTimeout(options.timeoutMs ?? 5000, () => req.destroy(new Error(`${method} ${path.slice(0, 80)}: no answer in time`)));
    req.on('error', (error) => {
      // The server may answer (413) and close before it has read a large body: keep the answer.
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE' && (error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    if (Array.isArray(body)) for (const chunk of body) req.write(chunk);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}
