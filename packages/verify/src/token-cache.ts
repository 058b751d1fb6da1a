import type crypto from 'node:crypto';

/** A token that passed the full check, and what a later presentation of it needs. */
export interface VerifiedToken {
  /** The whole token string that passed the full check: a hit must equal it exactly. */
  token: string;
  userId: string;
  sessionId: string;
  /** `exp` in ms: the token is good while now < expiresAtMs (jose's rule). */
  expiresAtMs: number;
  /** The key that verified it, as the key set held it then (jwks.ts): compared by identity on every hit. */
  kid: string;
  key: crypto.KeyObject;
  /** `cnf.jkt` of a device-bound token (RFC 9449), and the `ath` its proofs must carry. */
  jkt: string | undefined;
  ath: string | undefined;
  /** Every claim, deep-frozen: one caller cannot change what the next one is told. */
  claims: Readonly<Record<string, unknown>> & { sid: string; sub: string };
}

/** The Map index of a token: its signature segment (see rule 1 below: an index, not the decision). */
const indexOf = (token: string) => token.slice(token.lastIndexOf('.') + 1);

/**
 * The verified-token cache of @sessiond/verify, on the rules of sessiond's own
 * (packages/server/src/tokens/access-tokens.ts). A client sends the same access token on every
 * request for its whole life, and the full check (Ed25519 signature and claims through jose) costs
 * far more than the rest of a request; so a token is fully checked once per process and later
 * presentations of the very same string reuse the result. Why that is safe:
 *
 * 1. A hit is decided on the whole token string: the presented string must equal (`===`, every
 *    character) the string that passed the full check. Only such strings are inserted, so any other
 *    string (an altered signature, `alg: none`, a changed header or payload) is a miss, checked in
 *    full and refused. The Map is indexed by the token's signature segment (the text after its last
 *    dot) only because hashing those ~86 characters instead of the whole ~600 is measurably cheaper
 *    on every request (measured in an in-process loop: about 0.3 µs of the ~1 µs a hit costs); two strings with
 *    the same signature segment still need full equality, so the index can cause a miss, never a
 *    wrong hit. Timing can at most tell whether a complete token is cached, which its holder knows.
 * 2. What can make a good token bad is re-checked by the verifier on every hit (verifier.ts):
 *    expiry against the clock, and that the key that verified it is still the one the current key
 *    set holds under its kid (an identity comparison: a withdrawn or replaced key fails it). A
 *    change of the key set empties the cache altogether (`clear`). Nothing else about a token can
 *    change: its claims are signed.
 * 3. Revocation, staleness and DPoP proofs are NOT cached: they are checked on every call, hit or
 *    miss (verifier.ts).
 * 4. Bounded: at most `maxEntries` tokens. Tokens are first seen just after they are issued, so
 *    insertion order is roughly expiry order: when full, expired entries at the old end go first,
 *    then the oldest one. An evicted token is simply checked in full again.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(private readonly maxEntries: number) {}

  get(token: string): VerifiedToken | undefined {
    const entry = this.entries.get(indexOf(token));
    return entry !== undefined && entry.token === token ? entry : undefined;
  }

  delete(token: string): void {
    if (this.get(token) !== undefined) this.entries.delete(indexOf(token));
  }

  add(entry: VerifiedToken, nowMs: number): void {
    if (this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      for (const [oldIndex, old] of this.entries) {
        if (this.entries.size < this.maxEntries && nowMs < old.expiresAtMs) break;
        this.entries.delete(oldIndex);
      }
    }
    this.entries.set(indexOf(entry.token), entry);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
