import crypto from 'node:crypto';

/** The keys of one JWKS document: kid -> public key. A new Map (and new KeyObjects) whenever the set changes. */
export type KeySet = ReadonlyMap<string, crypto.KeyObject>;

export interface JwksOptions {
  url: string;
  fetch: typeof fetch;
  timeoutMs: number;
  /** A kid we do not know triggers at most one fetch per this interval (a rotation, or a forgery). */
  cooldownMs: number;
  now: () => number;
  /** Told when the key set changed (a rotation, a key withdrawn): what was verified with the old set is forgotten. */
  onChange: () => void;
}

/** A JWKS document we will not read (not JSON, no `keys` array, too large). */
const MAX_JWKS_BYTES = 256 * 1024;

/**
 * sessiond's signing keys, read from its `/.well-known/jwks.json`. Only what the verifier pins is
 * kept: Ed25519 (`OKP`/`Ed25519`) keys with a `kid`, for EdDSA signatures; anything else in the
 * document (other key types, encryption keys, a private member by mistake) never verifies anything.
 * A kid that appears twice is ambiguous and dropped altogether (as jose refuses multiple matches).
 *
 * Why not jose's createRemoteJWKSet: the verified-token cache (token-cache.ts) must know when the
 * key set changes, and which key verified a token, to re-check it on every cache hit. Here each key
 * is one KeyObject for as long as the set is unchanged, so "this token's key is still in the set"
 * is one identity comparison.
 */
export class Jwks {
  private current: KeySet = new Map();
  private fingerprint: string | undefined;
  private loading: Promise<void> | undefined;
  private unknownKidReload: Promise<void> | undefined;
  private lastLoadMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: JwksOptions) {}

  /** The key set as last read (empty before the first successful read). */
  get keys(): KeySet {
    return this.current;
  }

  /** Whether a read has succeeded at least once. */
  get loaded(): boolean {
    return this.fingerprint !== undefined;
  }

  /** Reads the document now (single-flight: a read in progress is joined). */
  load(): Promise<void> {
    this.loading ??= this.read().finally(() => {
      this.lastLoadMs = this.options.now();
      this.loading = undefined;
    });
    return this.loading;
  }

  /** After an unknown kid: reads again, but not more than once per cooldown (it waits the rest out). */
  reloadForUnknownKid(): Promise<void> {
    this.unknownKidReload ??= (async () => {
      const waitMs = this.lastLoadMs + this.options.cooldownMs - this.options.now();
      if (waitMs > 0) await new Promise((r) => setTimeout(r, Math.min(waitMs, this.options.cooldownMs)));
      await this.load();
    })().finally(() => {
      this.unknownKidReload = undefined;
    });
    return this.unknownKidReload;
  }

  private async read(): Promise<void> {
    const response = await this.options.fetch(this.options.url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.options.timeoutMs) });
    const text = await response.text();
    if (!response.ok) throw new Error(`the JWKS answered HTTP ${response.status}`);
    if (text.length > MAX_JWKS_BYTES) throw new Error('the JWKS document is too large');
    const document = JSON.parse(text) as { keys?: unknown };
    if (!document || typeof document !== 'object' || !Array.isArray(document.keys)) throw new Error('the JWKS document has no keys array');
    const members = new Map<string, string>();
    const duplicated = new Set<string>();
    for (const jwk of document.keys as Array<Record<string, unknown>>) {
      if (!jwk || typeof jwk !== 'object') continue;
      const { kty, crv, x, kid, alg, use } = jwk;
      if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string' || typeof kid !== 'string' || kid === '') continue;
      if ((alg !== undefined && alg !== 'EdDSA') || (use !== undefined && use !== 'sig') || 'd' in jwk) continue;
      if (members.has(kid)) duplicated.add(kid);
      members.set(kid, x);
    }
    for (const kid of duplicated) members.delete(kid);
    const fingerprint = JSON.stringify([...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (fingerprint === this.fingerprint) return; // unchanged: same KeyObjects, the cache stays
    const next = new Map<string, crypto.KeyObject>();
    for (const [kid, x] of members) {
      try {
        next.set(kid, crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
      } catch {
        // not a valid Ed25519 public key: it verifies nothing
      }
    }
    const first = this.fingerprint === undefined;
    this.current = next;
    this.fingerprint = fingerprint;
    if (!first) this.options.onChange();
  }
}
