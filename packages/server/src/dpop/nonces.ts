import crypto from 'node:crypto';

/**
 * Server nonces (RFC 9449 §8, §9): they bound how long a proof can be used after it was made, even
 * by someone who can make proofs in advance (malware on the device, §11.2). Stateless: a nonce is a
 * time slot and its HMAC, so every instance sharing the key file accepts every instance's nonces
 * without coordination. A nonce is good in the slot it was made and the next one.
 */
export interface DpopNonces {
  /** A fresh nonce for the DPoP-Nonce header. */
  issue(): string;
  /** Whether a nonce is one of ours and still good. */
  isValid(nonce: string): boolean;
}

export function createDpopNonces(options: { secret: string; slotMs: number; now: () => number }): DpopNonces {
  // Derived (HKDF), never the refresh-token key itself: one key per purpose.
  const key = Buffer.from(crypto.hkdfSync('sha256', Buffer.from(options.secret, 'base64url'), Buffer.alloc(0), 'sessiond dpop nonce v1', 32));
  const mac = (slot: number) => crypto.createHmac('sha256', key).update(String(slot)).digest().subarray(0, 16);
  const slotOf = (ms: number) => Math.floor(ms / options.slotMs);
  let cached: { slot: number; nonce: string } | undefined;
  return {
    issue() {
      const slot = slotOf(options.now());
      if (cached?.slot !== slot) cached = { slot, nonce: `${slot.toString(36)}.${mac(slot).toString('base64url')}` };
      return cached.nonce;
    },
    isValid(nonce) {
      const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
      if (!match) return false;
      const slot = parseInt(match[1]!, 36);
      const current = slotOf(options.now());
      if (slot !== current && slot !== current - 1) return false;
      const given = Buffer.from(match[2]!, 'base64url');
      // Constant-time: a nonce must not be guessable byte by byte.
      return given.length === 16 && crypto.timingSafeEqual(given, mac(slot));
    },
  };
}
