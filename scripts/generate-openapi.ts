/**
 * Writes openapi.json (at the repository root): the OpenAPI document the service serves at
 * /openapi.json, built in memory from the code (an empty SQLite database, default configuration, so
 * `servers` is the default listening address http://127.0.0.1:3000; a deployment serves its own
 * PUBLIC_URL). The route schemas that validate requests write it: there is no hand-kept copy.
 *
 *   npm run generate:openapi     (then npm run generate:sdk, which reads the file)
 *
 * packages/server/test/http/openapi-document.test.ts fails while the committed file is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildApp } from '../packages/server/src/app.ts';
import { defaultConfig } from '../packages/server/src/config.ts';
import { openDatabase } from '../packages/server/src/database/database.ts';
import { generateKeyMaterial } from '../packages/server/src/tokens/key-store.ts';

export const openApiFile = path.resolve(import.meta.dirname, '../openapi.json');

/** Builds the app in memory and returns the OpenAPI document it serves, as plain data. */
export async function buildOpenApiDocument(): Promise<unknown> {
  const database = openDatabase({ sqliteFile: ':memory:' });
  const app = await buildApp({ ...defaultConfig, logLevel: 'silent' }, { database, keys: generateKeyMaterial(Date.now()) });
  try {
    await app.ready();
    // A JSON round trip leaves plain data (no getters, no undefined).
    return JSON.parse(JSON.stringify(app.swagger())) as unknown;
  } finally {
    await app.close();
    await database.close();
  }
}

/** The file's exact text: two-space JSON and a final newline. */
export const documentText = (doc: unknown) => JSON.stringify(doc, null, 2) + '\n';

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const text = documentText(await buildOpenApiDocument());
  const changed = !fs.existsSync(openApiFile) || fs.readFileSync(openApiFile, 'utf8') !== text;
  if (changed) fs.writeFileSync(openApiFile, text);
  console.log(`openapi.json ${changed ? 'written' : 'unchanged'}`);
}
