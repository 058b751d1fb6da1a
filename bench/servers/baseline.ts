/**
 * The baseline: a bare node:http server answering every request with a small JSON body, the
 * ceiling of what any Node HTTP service can do on one core. Every target is a ratio to it, measured
 * in the same run on the same core, so the ratios hold across machines and background noise.
 *
 *   PORT=… node --import tsx bench/servers/baseline.ts
 */
import http from 'node:http';

const port = Number(process.env.PORT);
if (!port) throw new Error('PORT is required');

// About the size of a session-check answer, with the headers a JSON API sends.
const body = JSON.stringify({ sessionId: '00000000-0000-4000-8000-000000000000', valid: true, expiresAt: new Date(0).toISOString() });
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };

const server = http.createServer((request, response) => {
  if (request.url === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  response.writeHead(200, headers).end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`baseline listening on http://127.0.0.1:${port}`));

const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, Number(process.env.BENCH_MAX_LIFETIME_SECONDS ?? 900) * 1000).unref();
