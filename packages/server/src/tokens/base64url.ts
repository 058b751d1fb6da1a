const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CHARSET = /^[A-Za-z0-9_-]*$/;

/**
 * Whether `text` is the one canonical (unpadded, RFC 4648 §3.5) base64url spelling of its bytes.
 * When the byte count is not a multiple of 3, the last character carries 2 or 4 bits that encode
 * nothing; decoders, Node's and jose's included, ignore them, so one token has 4 or 16 spellings
 * that all verify. A token is an identifier too (caches, logs, rate-limit keys, deny lists), so
 * only the spelling we issued is accepted: those spare bits must be zero, and a length of 4n+1
 * (no byte count gives it) is refused.
 */
export function isCanonicalBase64url(text: string): boolean {
  if (!CHARSET.test(text)) return false;
  const tail = text.length % 4;
  if (tail === 0) return true;
  if (tail === 1) return false;
  const spareBits = tail === 2 ? 0b1111 : 0b11;
  return (ALPHABET.indexOf(text[text.length - 1]!) & spareBits) === 0;
}
