// test-tier: full (slow: 7 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig, type AppConfig } from '../../src/config.ts';
import { startApp } from '../helpers/app.ts';
import { backendNames } from '../helpers/backends.ts';

/**
 * PUBLIC_URL (issue 12, item 10): with a public https origin configured, the refresh cookie is
 * Secure and __Secure- prefixed whatever the service itself sees (here plain http from 127.0.0.1,
 * as behind a TLS-terminating proxy that is not in TRUST_PROXY), and the refresh reads it back.
 */
const browser = { 'x-refresh-transport': 'cookie' };
const PUBLIC = 'https://auth.example.com';
const setCookies = (res: { headers: Headers }) => res.headers.getSetCookie();
const named = (res: { headers: Headers }, name: string) => setCookies(res).find((c) => c.startsWith(`${name}=`));
const pairOf = (setCookie: string) => setCookie.split(';')[0]!;

for (const backend of backendNames) {
  describe(`refresh cookie with PUBLIC_URL (${backend})`, () => {
    test('https PUBLIC_URL: Secure, __Secure-sessiond_refresh, whatever the proxy says; refresh reads it; sign-out clears it', async (t) => {
      // Two proxy setups: not trusted (the service sees http), and trusted but saying http.
      const setups: Array<[string, Partial<AppConfig>, Record<string, string>]> = [
        ['untrusted proxy', { publicUrl: PUBLIC }, {}],
        ['trusted proxy saying http', { publicUrl: PUBLIC, trustProxy: ['127.0.0.1'] }, { 'x-forwarded-proto': 'http' }],
      ];
      for (const [label, config, extra] of setups) {
        const env = await startApp(t, backend, { config });
        if (!env) return;
        const { http } = env;
        const reg = await http.post('/auth/register', { email: `p${Date.now()}@example.com`, password: 'long enough password' }, { headers: { ...browser, ...extra } });
        assert.equal(reg.status, 201, reg.text);
        const set = named(reg, '__Secure-sessiond_refresh');
        assert.ok(set, `${label}: the prefixed cookie is set (${setCookies(reg).join(' | ')})`);
        assert.match(set, /; Secure/i, label);
        assert.match(set, /; HttpOnly/i, label);
        assert.match(set, /; SameSite=Strict/i, label);
        assert.match(set, /; Path=\/auth\/refresh/, label);
        assert.equal(named(reg, 'sessiond_refresh'), undefined, `${label}: no unprefixed cookie`);

        // The page on https://auth.example.com refreshes: its Origin is the public one.
        const refreshed = await http.post('/auth/refresh', {}, { headers: { ...browser, ...extra, cookie: pairOf(set), origin: PUBLIC, 'sec-fetch-site': 'same-origin' } });
        assert.equal(refreshed.status, 200, `${label}: ${refreshed.text}`);
        assert.equal(refreshed.body.sessionId, reg.body.sessionId);
        const rotated = named(refreshed, '__Secure-sessiond_refresh');
        assert.ok(rotated && /; Secure/i.test(rotated), `${label}: the rotated cookie is Secure and prefixed`);

        // The same token under the unprefixed name is not read (only a Secure, https-set cookie counts).
        const unprefixed = await http.post('/auth/refresh', {}, { headers: { ...browser, ...extra, cookie: `sessiond_refresh=${pairOf(rotated).split('=')[1]}` } });
        assert.equal(unprefixed.status, 401, `${label}: unprefixed cookie ignored`);
        // Another origin is still refused.
        const evil = await http.post('/auth/refresh', {}, { headers: { ...browser, ...extra, cookie: pairOf(rotated), origin: 'https://evil.example.com' } });
        assert.equal(evil.status, 401, `${label}: cross-origin refused`);

        const out = await http.post('/auth/logout', undefined, { token: refreshed.body.accessToken, headers: { ...extra } });
        assert.equal(out.status, 204);
        const cleared = named(out, '__Secure-sessiond_refresh');
        assert.ok(cleared, `${label}: sign-out clears the prefixed cookie`);
        assert.match(cleared, /Expires=Thu, 01 Jan 1970|Max-Age=0/);
        assert.match(cleared, /; Secure/i, 'a __Secure- cookie can only be cleared with Secure');
      }
    });

    test('http PUBLIC_URL (local development): the plain name, Secure only over https as before', async (t) => {
      const env = await startApp(t, backend, { config: { publicUrl: 'http://localhost:3000' } });
      if (!env) return;
      const reg = await env.http.post('/auth/register', { email: 'dev@example.com', password: 'long enough password' }, { headers: browser });
      const set = named(reg, 'sessiond_refresh');
      assert.ok(set);
      assert.doesNotMatch(set, /; Secure/i);
      const refreshed = await env.http.post('/auth/refresh', {}, { headers: { ...browser, cookie: pairOf(set), origin: 'http://localhost:3000' } });
      assert.equal(refreshed.status, 200, refreshed.text);
    });
  });
}

test('PUBLIC_URL must be an http(s) URL; the error never echoes a credential', () => {
  assert.equal(loadConfig({ PUBLIC_URL: 'https://auth.example.com' }).publicUrl, 'https://auth.example.com');
  assert.equal(loadConfig({}).publicUrl, undefined);
  for (const bad of ['auth.example.com', 'ftp://auth.example.com', 'javascript:alert(1)', 'https://user:pub-secret@auth.example.com']) {
    assert.throws(() => loadConfig({ PUBLIC_URL: bad }), (e: Error) => e instanceof ConfigError && /PUBLIC_URL/.test(e.message) && !e.message.includes('pub-secret'), bad);
  }
});
