import type crypto from 'node:crypto';

/** A token that passed the full check, and what a later presentation of it needs. */
export interface VerifiedToken {
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

/**
 * The verified-token cache of @sessiond/verify, on the rules of sessiond's own
 * (packages/server/src/tokens/access-tokens.ts). A client sends the same access token on every
 * request for its whole life, and the full check (Ed25519 signature and claims through jose) costs
 * far more than the rest of a request; so a token is fully checked once per process and later
 * presentations of the very same string reuse the result. Why that is safe:
 *
 * 1. The key is the whole token string, never a prefix or a hash of it: only a string that passed the
 *    full check is inserted, and any other string (an altered signature, `alg: none`, a changed
 *    header or payload) is a different key, so a miss, checked in full and refused. Map lookups
 *    compare whole strings; a timing difference could only tell whether a complete token is cached,
 *    which its holder already knows.
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
    return this.entries.get(token);
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  add(token: string, entry: VerifiedToken, nowMs: number): void {
    if (this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      for (const [oldToken, old] of this.entries) {
        if (this.entries.size < this.maxEntries && nowMs < old.expiresAtMs) break;
        this.entries.delete(oldToken);
      }
    }
    this.entries.set(token, entry);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
