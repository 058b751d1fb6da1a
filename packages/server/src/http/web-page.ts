import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { usePageSecurityHeaders } from './security-headers.ts';

/** Where `packages/web` builds the devices page (scripts/build.mjs, target `web`). */
export const webDistDir = path.resolve(import.meta.dirname, '../../../web/dist');

export interface WebPageOptions {
  /** The built page; `packages/web/dist` by default. */
  distDir?: string;
  /** Security headers for HTML documents (see http/security-headers.ts). */
  pageHeaders: Readonly<Record<string, string>>;
}

/**
 * The devices page, served from the service itself so that it is same-origin with the API: the
 * refresh cookie (SameSite=Strict, Path=/auth/refresh) and the CSRF checks of /auth/refresh only
 * work for a page on this origin, and no CORS is needed.
 *
 * Only the files that exist when the app is built are routed (`wildcard: false`): there is no
 * catch-all GET, so unknown API paths keep their problem-details 404. Vite names the assets by
 * content hash, so they may be cached for good; index.html must be revalidated every time, or a
 * browser would keep asking for assets of an old build.
 */
export async function registerWebPage(root: FastifyInstance, options: WebPageOptions): Promise<void> {
  await root.register(async (app) => {
    usePageSecurityHeaders(app, options.pageHeaders);
    await servePage(app, options.distDir ?? webDistDir);
  });
}

async function servePage(app: FastifyInstance, distDir: string): Promise<void> {
  if (!fs.existsSync(path.join(distDir, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(notBuiltPage));
    return;
  }
  // The page a password-reset link opens (`/reset-password?token=…`) is the devices page itself:
  // it reads the token, replaces its own URL at once (history, Referer) and shows the reset form.
  // The request log prints no `token` value (observability/access-log.ts).
  const indexHtml = path.join(distDir, 'index.html');
  app.get('/reset-password', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(fs.createReadStream(indexHtml)),
  );
  await app.register(fastifyStatic, {
    root: distDir,
    prefix: '/',
    wildcard: false,
    // Swagger UI registers its own copy in its scope; this one needs no reply.sendFile.
    decorateReply: false,
    cacheControl: false,
    // Our build has no dotfiles to serve (the build stamp is one).
    globIgnore: ['**/.*'],
    setHeaders: (response, filePath) => {
      const immutable = path.relative(distDir, filePath).startsWith(`assets${path.sep}`);
      response.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}

// No script, only an inline style (allowed by the CSP): a hint for someone who started the server
// without `npm start`, which builds the page first.
const notBuiltPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>sessiond</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>The devices page is not built yet</h1>
<p>Build it once with <code>npm run build -w @sessiond/web</code> and reload this page
(<code>npm start</code> does this for you). The API is running: see <a href="/docs">/docs</a>.</p>
</body>
</html>
`;
