// The committed SDK is what the generator makes of the committed openapi.json: change a route
// schema and regenerate the document without regenerating the SDK, and this fails.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { apiClassName, generateFiles, loadOpenApiDocument, methodName, sdkDir, staleFiles } from '../../../scripts/generate-sdk.ts';

test('packages/sdk matches the committed openapi.json (else: run npm run generate:sdk)', () => {
  const files = generateFiles(loadOpenApiDocument());
  const differing = [...files].filter(([relative, content]) => {
    const target = path.join(sdkDir, relative);
    return !fs.existsSync(target) || fs.readFileSync(target, 'utf8') !== content;
  });
  assert.deepEqual(differing.map(([relative]) => relative), [], 'generated files differ from the committed ones: run npm run generate:sdk');
  assert.deepEqual(staleFiles(files), [], 'files the generator no longer makes: run npm run generate:sdk');
});

test('names follow openapi-generator typescript-fetch', () => {
  assert.equal(methodName('SessionController_getActiveSessions'), 'sessionControllerGetActiveSessions');
  assert.equal(methodName('SessionController_revokeAllSessions'), 'sessionControllerRevokeAllSessions');
  assert.equal(methodName('AuthController_register'), 'authControllerRegister');
  assert.equal(methodName('get-user_by.id'), 'getUserById');
  assert.equal(apiClassName('Sessions'), 'SessionsApi');
  assert.equal(apiClassName('api keys'), 'ApiKeysApi');
});
