/**
 * The page talks to the service only through @sessiond/sdk. It imports the SDK's sources rather
 * than its built dist/: Vite compiles them together with the page, so a fresh clone needs no
 * separate SDK build before `npm start`, and the type checker sees the same code.
 */
export * from '../../sdk/src/index.ts';
export * from '../../sdk/src/dpop.ts';
