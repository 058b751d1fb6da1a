import crypto from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK, type JWTPayload } from 'jose';

/**
 * DPoP proofs (RFC 9449 §4): a JWT the client signs with its own private key for one request. This
 * file is the §4.3 checklist, pure apart from the clock it is handed; replay (jti), nonces and HTTP
 * live beside it (replay-cache.ts, nonces.ts, dpop-http.ts).
 */

/**
 * Asymmetric algorithms only, pinned by the verifier (RFC 9449 §4.3 step 5, RFC 8725 §3.1): the key
 * travels in the proof itself, so a symmetric algorithm (HS256) or `none` would let anyone "prove"
 * possession of anything. ES256 is what WebCrypto offers in every browser; EdDSA (Ed25519) in Node.
 */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA'] as const;
/** The key shape each algorithm must carry: no other curve or key type is imported. */
const KEY_SHAPES: Record<(typeof DPOP_ALGORITHMS)[number], { kty: string; crv: string; members: string[]; digest: string | null }> = {
  // ES256 signatures are r||s (IEEE P1363, RFC 7518 §3.4), 64 bytes; Ed25519 ones 64 bytes too.
  ES256: { kty: 'EC', crv: 'P-256', members: ['kty', 'crv', 'x', 'y'], digest: 'sha256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['kty', 'crv', 'x'], digest: null },
};
/** Private or symmetric key members (RFC 7517/7518): their presence refuses the proof outright. */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** A proof is a few hundred bytes; anything far larger is refused before parsing. */
export const MAX_PROOF_LENGTH = 4096;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** jti: enough entropy room, bounded size (it is stored for the replay window). */
const JTI_SHAPE = /^[\x21-\x7e]{8,200}$/;

/**
 * Imported proof keys by their RFC 7638 members (a device presents the same key on every request).
 * Importing a JWK and hashing its thumbprint cost several times the signature check itself
 * (measured: about 450 µs per proof with jose's EmbeddedJWK, docs/BENCHMARKS.md), so each distinct
 * public key is imported once per process. Safe: the entry is a pure function of those members (the
 * same members always make the same key and thumbprint), the signature is still verified on every
 * proof, and nothing but public keys that passed the shape checks is ever inserted. Bounded; the
 * oldest entry goes first, and an evicted key is simply imported again.
 */
const importedKeys = new Map<string, { key: crypto.KeyObject; jkt: string }>();
const IMPORTED_KEYS_MAX = 10_000;

async function importProofKey(jwk: Record<string, unknown>, shape: (typeof KEY_SHAPES)[keyof typeof KEY_SHAPES]): Promise<{ key: crypto.KeyObject; jkt: string }> {
  const { members } = shape;
  // The RFC 7638 member set, in lexicographic order: equal strings mean equal keys.
  const canonical = JSON.stringify(Object.fromEntries([...members].sort().map((m) => [m, jwk[m]])));
  const hit = importedKeys.get(canonical);
  if (hit) return hit;
  const publicJwk = JSON.parse(canonical) as JWK;
  // Throws on a malformed key (coordinates not on the curve, bad encoding): the proof is refused.
  const key = crypto.createPublicKey({ key: publicJwk as crypto.JsonWebKey, format: 'jwk' });
  const entry = { key, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
  if (importedKeys.size >= IMPORTED_KEYS_MAX) importedKeys.delete(importedKeys.keys().next().value as string);
  importedKeys.set(canonical, entry);
  return entry;
}

/** Why a proof was refused. `use_dpop_nonce`: valid otherwise, but a (fresh) server nonce is needed. */
export class DpopProofError extends Error {
  constructor(
    message: string,
    readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce' = 'invalid_dpop_proof',
  ) {
    super(message);
    this.name = 'DpopProofError';
  }
}

export interface ProofExpectations {
  /** The request's method, upper case. */
  method: string;
  /** The request's external URL (scheme, host, path); its query and fragment are ignored. */
  url: string;
  /** The access token presented with the proof: `ath` must be its SHA-256 (RFC 9449 §4.3 step 11). */
  accessToken?: string | undefined;
  nowMs: number;
  /** `iat` may be this far from now in either direction (clock skew plus transit). */
  iatWindowSeconds: number;
}

export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's public key, base64url. */
  jkt: string;
  jti: string;
  /** The proof's `nonce` claim, if any (checked by the caller against nonces.ts). */
  nonce: string | undefined;
}

/** The URL as RFC 9449 §4.3 step 9 compares it: normalised (RFC 3986 §6.2.2/§6.2.3), without query or fragment. */
export function htuOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

/** base64url(SHA-256(access token)): the `ath` claim. */
export function accessTokenHash(accessToken: string): string {
  return crypto.createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

const equal = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
};

/** Runs every check of RFC 9449 §4.3 but the replay and nonce ones; throws DpopProofError. */
export async function verifyDpopProof(proof: string, expect: ProofExpectations): Promise<VerifiedProof> {
  if (proof.length > MAX_PROOF_LENGTH || !JWT_SHAPE.test(proof)) throw new DpopProofError('The DPoP proof is not a compact JWT.');
  let header;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new DpopProofError('The DPoP proof header is malformed.');
  }
  // Checked before any key is imported: the algorithm list, then the key's shape. A JWK carrying
  // private material means the client leaked its key; refusing it keeps that key from ever binding.
  const alg = header.alg as (typeof DPOP_ALGORITHMS)[number];
  if (!DPOP_ALGORITHMS.includes(alg)) throw new DpopProofError(`The DPoP proof must be signed with ${DPOP_ALGORITHMS.join(' or ')}.`);
  if (header.typ !== 'dpop+jwt') throw new DpopProofError('The DPoP proof must have typ "dpop+jwt".');
  const jwk = header.jwk as Record<string, unknown> | undefined;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw new DpopProofError('The DPoP proof must carry its public key as "jwk".');
  if (SECRET_MEMBERS.some((m) => m in jwk)) throw new DpopProofError('The DPoP proof key must be a public key (it carries private key material).');
  const shape = KEY_SHAPES[alg];
  if (jwk.kty !== shape.kty || jwk.crv !== shape.crv || !shape.members.every((m) => typeof jwk[m] === 'string')) {
    throw new DpopProofError(`The DPoP proof key must be a ${shape.kty} ${shape.crv} public key for ${alg}.`);
  }
  // No header extension is understood here, so any `crit` (and the unencoded-payload `b64`, RFC
  // 7797) refuses the proof (RFC 7515 §4.1.11).
  if ('crit' in header || 'b64' in header) throw new DpopProofError('The DPoP proof uses a header extension this server does not support.');
  let payload: JWTPayload;
  let jkt: string;
  try {
    // The signature, checked with node:crypto synchronously against the header's own key (imported
    // once per key, above): the algorithm is the pinned one the key shape was checked against.
    // jose's jwtVerify with EmbeddedJWK does the same through WebCrypto at about 3.5 times the cost
    // (docs/BENCHMARKS.md), which matters here: every bound request verifies a proof.
    const imported = await importProofKey(jwk, shape);
    jkt = imported.jkt;
    const [encodedHeader, encodedPayload, encodedSignature] = proof.split('.') as [string, string, string];
    const signature = Buffer.from(encodedSignature, 'base64url');
    const input = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
    const valid = signature.length === 64 && crypto.verify(shape.digest, input, { key: imported.key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!valid) throw new Error('bad signature');
    payload = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8')) as JWTPayload;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new Error('payload is not an object');
  } catch {
    throw new DpopProofError('The DPoP proof signature or key is invalid.');
  }
  const { htm, htu, iat, jti, ath, nonce } = payload as JWTPayload & Record<string, unknown>;
  if (typeof jti !== 'string' || !JTI_SHAPE.test(jti)) throw new DpopProofError('The DPoP proof needs a "jti" of 8 to 200 characters.');
  if (htm !== expect.method) throw new DpopProofError('The DPoP proof "htm" does not match the request method.');
  const expectedHtu = htuOf(expect.url);
  if (typeof htu !== 'string' || expectedHtu === undefined || htuOf(htu) !== expectedHtu) {
    throw new DpopProofError('The DPoP proof "htu" does not match the request URL.');
  }
  // Both directions bounded: a proof dated in the future could be pre-generated by malware and used
  // later from elsewhere (RFC 9449 §11.2); an old one is a replay candidate past the jti window.
  if (typeof iat !== 'number' || !Number.isFinite(iat) || Math.abs(iat * 1000 - expect.nowMs) > expect.iatWindowSeconds * 1000) {
    throw new DpopProofError('The DPoP proof "iat" is missing or too far from the server time.');
  }
  if (expect.accessToken !== undefined) {
    if (typeof ath !== 'string' || !equal(ath, accessTokenHash(expect.accessToken))) {
      throw new DpopProofError('The DPoP proof "ath" does not match the access token.');
    }
  }
  if (nonce !== undefined && typeof nonce !== 'string') throw new DpopProofError('The DPoP proof "nonce" must be a string.', 'use_dpop_nonce');
  return { jkt, jti, nonce };
}
