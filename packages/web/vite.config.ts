import { defineConfig } from 'vite';

/**
 * Builds the devices page into dist/, which the service serves at / (packages/server/src/http/web-page.ts).
 * `npm run dev -w @sessiond/web` serves the page with live reload and forwards API calls to a
 * service on 127.0.0.1:3000 (`npm start`); the Host header is kept, so the refresh cookie's
 * same-origin checks pass as they do in production.
 */
const api = 'http://127.0.0.1:3000';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  // No public/ folder: every asset is imported, hashed and inlined into the bundle.
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The page is small; one script and one stylesheet.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: { '/auth': api, '/sessions': api },
  },
});
