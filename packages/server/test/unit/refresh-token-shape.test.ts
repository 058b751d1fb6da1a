import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRefreshTokens } from '../../src/tokens/refresh-tokens.ts';

// The refresh-token shape is built from the one UUID definition (http/uuid.ts). Built as a string,
// a separator written `\.` in a template literal silently becomes "any character": this pins that
// only the exact shape we issue parses.

test('only the issued refresh-token shape parses: dots between the parts, a lower-case session id', () => {
  const tokens = createRefreshTokens('k'.repeat(43));
  const sessionId = '0f8c3a52-6a4b-4d3e-9a51-2c7f1e0b9d44';
  const token = tokens.make(sessionId, 3, 'salt');
  assert.deepEqual(tokens.parse(token)?.sessionId, sessionId);
  assert.equal(tokens.parse(token)?.generation, 3);
  const [id, generation, mac] = token.split('.');
  for (const other of [`${id}x${generation}.${mac}`, `${id}.${generation}x${mac}`, `${id!.toUpperCase()}.${generation}.${mac}`, `${id}.03.${mac}`, `${id!.slice(1)}.${generation}.${mac}`]) {
    assert.equal(tokens.parse(other), undefined, other);
  }
});
