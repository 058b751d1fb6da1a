// test-tier: full (builds the page with Vite)
// How the service serves the page (packages/server/src/http/web-page.ts): same origin as the API,
// under the service's CSP, cached correctly, without shadowing the API's 404s.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { startApp } from '../../server/test/helpers/app.ts';
import { registerWebPage } from '../../server/src/http/web-page.ts';
import { ensureBuilt } from '../../../scripts/build.mjs';

before(async () => {
  await ensureBuilt(['web'], { ifStale: true, quiet: true });
});

describe('serving the devices page', () => {
  test('GET / is the built page: scripts only from files, under the CSP, revalidated; assets cached for good', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const page = await fetch(env.url + '/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.ok(scripts.length > 0);
    for (const tag of scripts) assert.match(tag, /\ssrc="\/assets\/[^"]+\.js"/, `no inline script: ${tag}`);

    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith('.css')) && assets.some((a) => a.endsWith('.js')));
    for (const asset of assets) {
      const res: Response = await fetch(env.url + asset);
      assert.equal(res.status, 200, asset);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    }
  });

  test('the API keeps its problem-details 404s; the build stamp is not served', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    for (const url of ['/no-such-thing', '/.inputs-sha256', '/assets/missing.js']) {
      const res: Response = await fetch(env.url + url);
      assert.equal(res.status, 404, url);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/, url);
    }
    assert.equal((await fetch(env.url + '/health')).status, 200);
  });

  test('without a build, / tells how to make one', async (t) => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-web-'));
    t.after(() => fs.rmSync(empty, { recursive: true, force: true }));
    const app = Fastify();
    t.after(() => app.close());
    await registerWebPage(app, { distDir: empty, pageHeaders: { 'x-frame-options': 'SAMEORIGIN' } });
    const res = await app.inject('/');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.match(res.body, /npm run build -w @sessiond\/web/);
    assert.doesNotMatch(res.body, /<script/);
    assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN', 'the page gets the page headers it was given');
  });
});
