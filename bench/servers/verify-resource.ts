/**
 * A resource server as a product writes one: bare node:http plus @sessiond/verify's node:http
 * helper, answering the same body as bench/servers/baseline.ts once the token is accepted. Compared
 * with the baseline, it measures what the verifier costs a request.
 *
 *   PORT=… SESSIOND_URL=… SESSIOND_SERVICE_KEY=… node --import tsx bench/servers/verify-resource.ts
 */
import http from 'node:http';
import { createVerifier, verifyRequest } from '../../packages/verify/src/index.ts';

const port = Number(process.env.PORT);
if (!port) throw new Error('PORT is required');
const verifier = await createVerifier({ baseUrl: process.env.SESSIOND_URL!, serviceKey: process.env.SESSIOND_SERVICE_KEY });

const body = JSON.stringify({ sessionId: '00000000-0000-4000-8000-000000000000', valid: true, expiresAt: new Date(0).toISOString() });
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };

const server = http.createServer(async (request, response) => {
  if (request.url === '/health') {
    response.writeHead(verifier.status().live ? 200 : 503, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (!(await verifyRequest(verifier, request, response))) return;
  response.writeHead(200, headers).end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`verify resource server listening on http://127.0.0.1:${port}`));

const stop = () => {
  server.close();
  server.closeAllConnections();
  void verifier.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, Number(process.env.BENCH_MAX_LIFETIME_SECONDS ?? 900) * 1000).unref();
