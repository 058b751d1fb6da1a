import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { redactPaths } from '../../src/app.ts';
import { startApp } from '../helpers/app.ts';
import { backendNames } from '../helpers/backends.ts';
import { captureLogs } from '../helpers/logs.ts';
import { login, registerUser } from '../helpers/http.ts';
import { rawRequest } from '../helpers/raw-http.ts';

/** Writes bytes exactly as given on a fresh connection; resolves with everything the server sent back. */
function sendBytes(baseUrl: string, bytes: string | Buffer, timeoutMs = 5000): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer in time: a malformed request must not hang'));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {}); // a reset after the answer is fine; the answer is what counts
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.write(bytes);
  });
}

/** Status and parsed body of a raw answer. */
function parseAnswer(text: string): { status: number; contentType: string; body: any } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const contentType = /\r\ncontent-type: ([^\r]+)/i.exec(head)?.[1] ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  return { status, contentType, body: parsed };
}

describe('no secret in any log line, at trace level, whatever the input (issue 12, item 4)', () => {
  for (const backend of backendNames) {
    test(`${backend}: malformed requests carrying each kind of secret, normal requests, 4xx and 5xx`, async (t) => {
      const logs = captureLogs();
      const env = await startApp(t, backend, { deps: { logger: { level: 'trace', stream: logs.stream, redact: redactPaths } } });
      if (!env) return;
      const { http, app, url } = env;
      const password = 'an unguessable passphrase 7f3a';
      const a = await registerUser(http, { password });
      const b = await login(http, a);
      const { secret: adminKey } = await app.sessiond.adminKeys.create('ops', env.clock.now());
      const cookieValue = b.refreshToken;
      const bodyJson = JSON.stringify({ email: a.email, password });

      // Each a request Node's parser refuses (a clientError), with a secret in the bytes it had read.
      const malformed: Array<{ label: string; bytes: string; status: number }> = [
        { label: 'access token, then a header name with a space', status: 400,
          bytes: `GET /sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.accessToken}\r\nBad Header: 1\r\n\r\n` },
        { label: 'refresh cookie, then a control character in a header value', status: 400,
          bytes: `POST /auth/refresh HTTP/1.1\r\nHost: x\r\nCookie: sessiond_refresh=${cookieValue}\r\nX-Refresh-Transport: cookie\r\nX-Bad: a\x01b\r\n\r\n` },
        { label: 'password in the body, invalid chunk size', status: 400,
          bytes: `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${bodyJson.length.toString(16)}\r\n${bodyJson}\r\nzz\r\n\r\n` },
        { label: 'admin key, then two content lengths', status: 400,
          bytes: `DELETE /admin/sessions/${b.sessionId} HTTP/1.1\r\nHost: x\r\nX-Admin-Key: ${adminKey}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab` },
        { label: 'admin key and access token in headers too large', status: 431,
          bytes: `GET /admin/stats HTTP/1.1\r\nHost: x\r\nX-Admin-Key: ${adminKey}\r\nAuthorization: Bearer ${a.accessToken}\r\nX-Filler: ${'f'.repeat(20_000)}\r\n\r\n` },
        { label: 'refresh token and password in a body with a bad request line after it', status: 400,
          bytes: `POST /auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${JSON.stringify({ refreshToken: a.refreshToken }).length}\r\n\r\n${JSON.stringify({ refreshToken: a.refreshToken })}GARBAGE ${password} HTTP/1.1\r\n\r\n` },
      ];
      for (const m of malformed) {
        const answers = (await sendBytes(url, m.bytes)).split(/(?=HTTP\/1\.1 )/).map(parseAnswer);
        const last = answers[answers.length - 1]!;
        assert.equal(last.status, m.status, `${m.label}: answered ${m.status}`);
        assert.match(last.contentType, /^application\/problem\+json/, `${m.label}: a problem`);
        assert.equal(last.body?.status, m.status, `${m.label}: problem status`);
      }

      // Normal requests, 4xx of every kind, with the secrets in the usual places.
      await http.post('/auth/refresh', {}, { headers: { cookie: `sessiond_refresh=${cookieValue}`, 'x-refresh-transport': 'cookie' } });
      await http.post('/auth/login', { email: a.email, password: `${password}x` });
      await http.post('/auth/login', undefined, { raw: `{"email":"${a.email}","password":"${password}`, headers: { 'content-type': 'application/json' } });
      await http.post('/auth/login', undefined, { raw: JSON.stringify({ email: a.email, password, extra: 1 }), headers: { 'content-type': 'application/json' } });
      await http.get('/admin/stats', { headers: { 'x-admin-key': adminKey } });
      await http.get('/admin/stats', { headers: { 'x-admin-key': `${adminKey}x` } });
      await http.get('/sessions', { token: a.accessToken });
      await http.get('/sessions/nope', { token: a.accessToken });
      await rawRequest(url, 'POST', '/auth/login', { headers: { 'content-type': 'application/json' }, body: `${bodyJson}${' '.repeat(20_000)}` });
      // 5xx: the database goes away under the app; the errors are logged with their stacks.
      await app.sessiond.database.close();
      const failed = await http.post('/auth/login', { email: a.email, password });
      assert.ok(failed.status >= 500, `a 5xx once the database is closed (${failed.status})`);
      await http.post('/auth/refresh', { refreshToken: a.refreshToken });

      // The log as text, plus every byte array in it decoded (pino writes a Buffer as {"type":"Buffer","data":[71,69,...]}).
      const decoded: string[] = [];
      const walk = (value: unknown): void => {
        if (Array.isArray(value)) {
          if (value.length > 0 && value.every((x) => Number.isInteger(x) && x >= 0 && x < 256)) decoded.push(Buffer.from(value as number[]).toString('latin1'));
          else value.forEach(walk);
        } else if (value && typeof value === 'object') Object.values(value).forEach(walk);
      };
      logs.lines().forEach(walk);
      const log = logs.text() + decoded.join('\n');
      assert.ok(logs.lines().length >= 10, 'the logger really captured lines');
      assert.ok(logs.lines().some((l) => l.msg === 'malformed request refused'), 'the malformed requests are logged (a summary)');
      assert.ok(logs.lines().some((l) => l.level >= 50), 'the 5xx is logged as an error');
      const secrets = { password, accessToken: a.accessToken, otherAccessToken: b.accessToken, refreshToken: a.refreshToken, cookieValue, adminKey };
      for (const [name, secret] of Object.entries(secrets)) {
        assert.ok(!log.includes(secret), `${name} leaked into the log`);
        // nor a recognisable part of it (a token's signature, the admin key's secret half)
        for (const part of secret.split(/[.]/)) if (part.length >= 20) assert.ok(!log.includes(part), `part of ${name} leaked into the log`);
      }
      // Nor in any encoding pino could have used for bytes.
      for (const secret of [password, adminKey]) {
        assert.ok(!log.includes(Buffer.from(secret).toString('base64')), 'base64 of a secret in the log');
        assert.ok(!log.includes(Buffer.from(secret).toString('hex')), 'hex of a secret in the log');
      }
      assert.doesNotMatch(log, /rawPacket/);
    });
  }
});
