import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makePrivateDir } from '../private-files.ts';

/**
 * The service's secrets: Ed25519 keys that sign access tokens, and the key that derives refresh
 * tokens. Generated on first start into `<dataDir>/keys.json` (mode 0600) so tokens survive a
 * restart, and shared by every worker and instance that reads the same file.
 */
export interface SigningKey {
  kid: string;
  /** Private key as a JWK (OKP / Ed25519). */
  privateJwk: crypto.JsonWebKey;
  createdAtMs: number;
}

export interface KeyMaterial {
  version: 1;
  /** Newest first: the first key signs, every listed key verifies. */
  signingKeys: SigningKey[];
  /** 32 random bytes, base64url: the HMAC key of refresh-token derivation. */
  refreshTokenKey: string;
}

export function generateSigningKey(nowMs: number): SigningKey {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const privateJwk = privateKey.export({ format: 'jwk' });
  // kid = RFC 7638 thumbprint prefix of the public key: stable and derived, not chosen.
  const thumb = crypto
    .createHash('sha256')
    .update(JSON.stringify({ crv: privateJwk.crv, kty: privateJwk.kty, x: privateJwk.x }))
    .digest('base64url');
  return { kid: thumb.slice(0, 16), privateJwk, createdAtMs: nowMs };
}

export function generateKeyMaterial(nowMs: number): KeyMaterial {
  return { version: 1, signingKeys: [generateSigningKey(nowMs)], refreshTokenKey: crypto.randomBytes(32).toString('base64url') };
}

function parseKeyMaterial(text: string, source: string): KeyMaterial {
  const parsed = JSON.parse(text) as KeyMaterial;
  if (parsed?.version !== 1 || !Array.isArray(parsed.signingKeys) || parsed.signingKeys.length === 0 || typeof parsed.refreshTokenKey !== 'string') {
    throw new Error(`${source} is not a sessiond key file`);
  }
  return parsed;
}

/**
 * Reads the key file, creating it if absent. Creation uses an exclusive create (`wx`) of a temp
 * name plus link, so two workers starting together end up with the same keys, never two sets.
 */
export function loadOrCreateKeyFile(file: string, nowMs: number): KeyMaterial {
  try {
    return parseKeyMaterial(fs.readFileSync(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  makePrivateDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(generateKeyMaterial(nowMs), null, 2), { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file); // fails with EEXIST if another process won the race
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return parseKeyMaterial(fs.readFileSync(file, 'utf8'), file);
}

/**
 * How long a replaced key keeps verifying after its successor appeared: one access-token lifetime
 * (every token it signed has expired by then) plus 2 minutes for instances that reload the key file
 * late. The one definition used by the verifier and by `sessiond keys list`.
 */
export function retireAfterMs(accessTokenTtlSeconds: number): number {
  return (accessTokenTtlSeconds + 120) * 1000;
}

/** Writes the key file atomically (temp file + rename), keeping mode 0600. */
export function writeKeyFile(file: string, material: KeyMaterial): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(material, null, 2), { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
}

/**
 * Rotation: a new key goes first and signs from now on; keys retired for longer than
 * `dropAfterMs` (their tokens long expired) are dropped from the file.
 */
export function rotateKeys(material: KeyMaterial, nowMs: number, dropAfterMs: number): KeyMaterial {
  const kept = material.signingKeys.filter((_key, i) => {
    if (i === 0) return true;
    const successor = material.signingKeys[i - 1]!;
    return nowMs - successor.createdAtMs < dropAfterMs;
  });
  return { ...material, signingKeys: [generateSigningKey(nowMs), ...kept] };
}

/** Reads the key file if it changed since `lastMtimeMs`; undefined when unchanged. */
export function reloadKeyFileIfChanged(file: string, lastMtimeMs: number): { material: KeyMaterial; mtimeMs: number } | undefined {
  const stat = fs.statSync(file);
  if (stat.mtimeMs === lastMtimeMs) return undefined;
  return { material: parseKeyMaterial(fs.readFileSync(file, 'utf8'), file), mtimeMs: stat.mtimeMs };
}
