import crypto from 'node:crypto';

/**
 * DPoP proofs (RFC 9449 §4.3) as a resource server checks them (§7.1): a device-bound access token
 * (`cnf.jkt`) is good only with a proof, signed by the device's key, over this very request and this
 * very token. A stolen bound token is useless without the private key.
 *
 * A deliberate small copy of sessiond's proof checker (packages/server/src/dpop/dpop-proof.ts and
 * replay-cache.ts): @sessiond/verify is a separate package installed in other services and cannot
 * import server code, and the checks are short. Differences: fully synchronous (the thumbprint is
 * hashed with node:crypto, not jose), and no server nonces (a resource server using this library
 * does not issue them; a `nonce` claim is ignored, as RFC 9449 §9 makes nonces the server's choice).
 * A change to the rules belongs in both places.
 */

/** Asymmetric algorithms only, pinned (RFC 9449 §4.3 step 5, RFC 8725 §3.1): `none`/HS256 would prove nothing. */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA'] as const;
type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];
/** The key shape each algorithm must carry; `members` are the RFC 7638 thumbprint members, sorted. */
const KEY_SHAPES: Record<DpopAlgorithm, { kty: string; crv: string; members: readonly string[]; digest: string | null }> = {
  ES256: { kty: 'EC', crv: 'P-256', members: ['crv', 'kty', 'x', 'y'], digest: 'sha256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['crv', 'kty', 'x'], digest: null },
};
/** Private or symmetric key members (RFC 7517/7518): their presence refuses the proof outright. */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_PROOF_LENGTH = 4096;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const JTI_SHAPE = /^[\x21-\x7e]{8,200}$/;

/** A refused proof; the message is for logs and never contains the proof or the token. */
export class DpopProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DpopProofError';
  }
}

/** Thrown when the replay cache is full of proofs still inside their window: we cannot tell a replay, so we refuse. */
export class ReplayCacheFullError extends Error {}

/**
 * Imported proof keys by their RFC 7638 members (a device sends the same key on every request), so
 * each is imported and hashed once per process. Safe: an entry is a pure function of those members,
 * and the signature is verified on every proof. Bounded; the oldest goes first.
 */
const IMPORTED_KEYS_MAX = 10_000;
const importedKeys = new Map<string, { key: crypto.KeyObject; jkt: string }>();

function importProofKey(jwk: Record<string, unknown>, members: readonly string[]): { key: crypto.KeyObject; jkt: string } {
  // RFC 7638 §3: the required members in lexicographic order, no whitespace: this string is the
  // thumbprint's input, and equal strings mean equal keys.
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])));
  const hit = importedKeys.get(canonical);
  if (hit) return hit;
  // Throws on a malformed key (coordinates not on the curve, bad encoding): the proof is refused.
  const key = crypto.createPublicKey({ key: JSON.parse(canonical) as crypto.JsonWebKey, format: 'jwk' });
  const entry = { key, jkt: crypto.createHash('sha256').update(canonical).digest('base64url') };
  if (importedKeys.size >= IMPORTED_KEYS_MAX) importedKeys.delete(importedKeys.keys().next().value as string);
  importedKeys.set(canonical, entry);
  return entry;
}

/** The URL as RFC 9449 §4.3 step 9 compares it: normalised by the URL parser, without query or fragment. */
export function htuOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

/** base64url(SHA-256(access token)): the `ath` claim (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string {
  return crypto.createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

const equal = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
};

export interface ProofExpectations {
  /** The request's method, upper case. */
  method: string;
  /** The URL the client sent the request to (scheme, host, path); query and fragment are ignored. */
  url: string;
  /** `ath` the proof must carry (accessTokenHash of the token presented with it). */
  ath: string;
  nowMs: number;
  /** `iat` may be this far from now, either way. */
  iatWindowMs: number;
}

/** Every check of RFC 9449 §4.3 but replay (the caller's, last); returns the key's thumbprint and the jti. */
export function verifyDpopProof(proof: string, expect: ProofExpectations): { jkt: string; jti: string } {
  if (proof.length > MAX_PROOF_LENGTH || !JWT_SHAPE.test(proof)) throw new DpopProofError('the DPoP proof is not a compact JWT');
  const [encodedHeader, encodedPayload, encodedSignature] = proof.split('.') as [string, string, string];
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new DpopProofError('the DPoP proof header is malformed');
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new DpopProofError('the DPoP proof header is malformed');
  // Before any key is imported: the pinned algorithms, the type, then the key's shape. A JWK with
  // private members means the client leaked its key: refused, so that key never proves anything.
  const alg = header.alg as DpopAlgorithm;
  if (!DPOP_ALGORITHMS.includes(alg)) throw new DpopProofError(`the DPoP proof must be signed with ${DPOP_ALGORITHMS.join(' or ')}`);
  if (header.typ !== 'dpop+jwt') throw new DpopProofError('the DPoP proof must have typ "dpop+jwt"');
  const jwk = header.jwk as Record<string, unknown> | undefined;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw new DpopProofError('the DPoP proof must carry its public key as "jwk"');
  if (SECRET_MEMBERS.some((m) => m in jwk)) throw new DpopProofError('the DPoP proof key carries private key material');
  const shape = KEY_SHAPES[alg];
  if (jwk.kty !== shape.kty || jwk.crv !== shape.crv || !shape.members.every((m) => typeof jwk[m] === 'string')) {
    throw new DpopProofError(`the DPoP proof key must be a ${shape.kty} ${shape.crv} public key for ${alg}`);
  }
  // No header extension is understood here: `crit` (and `b64`, RFC 7797) refuse the proof (RFC 7515 §4.1.11).
  if ('crit' in header || 'b64' in header) throw new DpopProofError('the DPoP proof uses an unsupported header extension');
  let payload: Record<string, unknown>;
  let jkt: string;
  try {
    const imported = importProofKey(jwk, shape.members);
    jkt = imported.jkt;
    const signature = Buffer.from(encodedSignature, 'base64url');
    // ES256 signatures are r||s (IEEE P1363, RFC 7518 §3.4), 64 bytes; Ed25519 ones 64 bytes too.
    const valid = signature.length === 64 && crypto.verify(shape.digest, Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii'), { key: imported.key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!valid) throw new Error('bad signature');
    payload = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new Error('payload is not an object');
  } catch {
    throw new DpopProofError('the DPoP proof signature or key is invalid');
  }
  const { htm, htu, iat, jti, ath } = payload;
  if (typeof jti !== 'string' || !JTI_SHAPE.test(jti)) throw new DpopProofError('the DPoP proof needs a "jti" of 8 to 200 characters');
  if (htm !== expect.method) throw new DpopProofError('the DPoP proof "htm" does not match the request method');
  const expectedHtu = htuOf(expect.url);
  if (typeof htu !== 'string' || expectedHtu === undefined || htuOf(htu) !== expectedHtu) throw new DpopProofError('the DPoP proof "htu" does not match the request URL');
  // Both directions bounded: a proof dated in the future could be made ahead by malware and used
  // later from elsewhere (RFC 9449 §11.2); an old one is a replay candidate beyond the jti window.
  if (typeof iat !== 'number' || !Number.isFinite(iat) || Math.abs(iat * 1000 - expect.nowMs) > expect.iatWindowMs) {
    throw new DpopProofError('the DPoP proof "iat" is missing or too far from now');
  }
  if (typeof ath !== 'string' || !equal(ath, expect.ath)) throw new DpopProofError('the DPoP proof "ath" does not match the access token');
  return { jkt, jti };
}

/**
 * The proofs already used (RFC 9449 §4.3 step 12, §11.1), in memory, bounded: a jti may be used once
 * per key while its iat is acceptable; after that the iat check refuses the proof anyway, so the
 * entry can go. Entries share one ttl, so insertion order is expiry order. When full of entries
 * still inside their window, a new proof is refused (ReplayCacheFullError) rather than an old entry
 * dropped, which would reopen that proof's replay. Memory only: a replay to another process of the
 * same API is not seen (each process has its own cache; see the README).
 */
export class ReplayCache {
  private readonly entries = new Map<string, number>();

  constructor(private readonly maxEntries: number) {}

  /** True the first time (key, jti) is seen within ttlMs; false for a replay. */
  firstUse(jkt: string, jti: string, nowMs: number, ttlMs: number): boolean {
    // One fixed-size entry whatever the jti's length: SHA-256 of key and jti, 128 bits.
    const key = crypto.createHash('sha256').update(jkt).update('\0').update(jti).digest('base64url').slice(0, 22);
    const seen = this.entries.get(key);
    if (seen !== undefined && seen > nowMs) return false;
    if (this.entries.size >= this.maxEntries) {
      for (const [oldKey, expiresAtMs] of this.entries) {
        if (expiresAtMs > nowMs) break;
        this.entries.delete(oldKey);
      }
      if (this.entries.size >= this.maxEntries) throw new ReplayCacheFullError('DPoP replay cache full');
    }
    this.entries.delete(key);
    this.entries.set(key, nowMs + ttlMs);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }
}
