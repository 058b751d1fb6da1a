import crypto from 'node:crypto';

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
/**
 * The key shape each algorithm must carry: no other curve or key type is imported. `members` are
 * the RFC 7638 required members, in lexicographic order (the thumbprint's order).
 */
const KEY_SHAPES: Record<(typeof DPOP_ALGORITHMS)[number], { kty: string; crv: string; members: string[]; digest: string | null }> = {
  // ES256 signatures are r||s (IEEE P1363, RFC 7518 §3.4), 64 bytes; Ed25519 ones 64 bytes too.
  ES256: { kty: 'EC', crv: 'P-256', members: ['crv', 'kty', 'x', 'y'], digest: 'sha256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['crv', 'kty', 'x'], digest: null },
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

function importProofKey(jwk: Record<string, unknown>, shape: (typeof KEY_SHAPES)[keyof typeof KEY_SHAPES]): { key: crypto.KeyObject; jkt: string } {
  // The RFC 7638 input: the required members in lexicographic order, no whitespace (what
  // JSON.stringify writes for an object built in that order). Equal strings mean equal keys, so it
  // is also the cache's key.
  const members: Record<string, unknown> = {};
  for (const m of shape.members) members[m] = jwk[m];
  const canonical = JSON.stringify(members);
  const hit = importedKeys.get(canonical);
  if (hit) return hit;
  // Throws on a malformed key (coordinates not on the curve, bad encoding): the proof is refused.
  const key = crypto.createPublicKey({ key: members as crypto.JsonWebKey, format: 'jwk' });
  const entry = { key, jkt: crypto.createHash('sha256').update(canonical).digest('base64url') };
  if (importedKeys.size >= IMPORTED_KEYS_MAX) importedKeys.delete(importedKeys.keys().next().value as string);
  importedKeys.set(canonical, entry);
  return entry;
}

/** A base64url JSON segment of a JWT as an object; undefined when it is not one. */
function jsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
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

/** The URL up to its query or fragment. */
function withoutQuery(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
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

/**
 * Runs every check of RFC 9449 §4.3 but the replay and nonce ones; throws DpopProofError.
 * Synchronous, and with nothing but node:crypto on the way (no jose, no WebCrypto promise): every
 * bound request runs it, and the one signature verification is already most of its cost.
 */
export function verifyDpopProof(proof: string, expect: ProofExpectations): VerifiedProof {
  if (proof.length > MAX_PROOF_LENGTH || !JWT_SHAPE.test(proof)) throw new DpopProofError('The DPoP proof is not a compact JWT.');
  const [encodedHeader, encodedPayload, encodedSignature] = proof.split('.') as [string, string, string];
  const header = jsonSegment(encodedHeader);
  if (!header) throw new DpopProofError('The DPoP proof header is malformed.');
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
  let imported: { key: crypto.KeyObject; jkt: string };
  let valid: boolean;
  try {
    // The signature, checked with node:crypto synchronously against the header's own key (imported
    // once per key, above): the algorithm is the pinned one the key shape was checked against.
    // jose's jwtVerify with EmbeddedJWK does the same through WebCrypto at about 3.5 times the cost
    // (docs/BENCHMARKS.md), which matters here: every bound request verifies a proof.
    imported = importProofKey(jwk, shape);
    const signature = Buffer.from(encodedSignature, 'base64url');
    const input = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
    valid = signature.length === 64 && crypto.verify(shape.digest, input, { key: imported.key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    valid = false;
  }
  const payload = valid ? jsonSegment(encodedPayload) : undefined;
  if (!payload) throw new DpopProofError('The DPoP proof signature or key is invalid.');
  const { jkt } = imported!;
  const { htm, htu, iat, jti, ath, nonce } = payload;
  if (typeof jti !== 'string' || !JTI_SHAPE.test(jti)) throw new DpopProofError('The DPoP proof needs a "jti" of 8 to 200 characters.');
  if (htm !== expect.method) throw new DpopProofError('The DPoP proof "htm" does not match the request method.');
  // The usual case costs a string comparison: the client signed exactly the URL without its query.
  // Otherwise both are normalised (RFC 9449 §4.3 step 9) and compared.
  if (typeof htu !== 'string' || (htu !== withoutQuery(expect.url) && (htuOf(htu) === undefined || htuOf(htu) !== htuOf(expect.url)))) {
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
