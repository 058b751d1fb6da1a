import crypto from 'node:crypto';
import { isCanonicalBase64url } from '../tokens/base64url.ts';

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): after a
 * successful sign-in the client gets a cookie that names a random device id and binds it to the
 * account, `<deviceId>.<mac>` with mac = HMAC-SHA256(key, "<email>\n<deviceId>"). A later sign-in
 * to the same account that presents it spends that device's own attempt budget
 * (abuse/rate-limiter.ts), so a guesser who keeps the account's shared budget exhausted cannot lock
 * out a browser the owner has signed in from before.
 *
 * Why these choices:
 * - Bound to the email as typed (normalised), not to the user id: the cookie is judged before any
 *   database read, and a cookie earned on the guesser's own account is worth nothing on another.
 * - MAC key: derived (HKDF) from the refresh-token key, which lives in the key file outside the
 *   database and is shared by every instance; a distinct label keeps the two uses apart. Without
 *   the key nobody can mint a device id, so a forged cookie is simply unknown (shared budget).
 * - A stolen cookie is worth one device's budget, which has the same back-off as any other.
 * - One cookie holds up to MAX_ENTRIES accounts (a shared computer), newest first.
 */
const LABEL = 'sessiond device cookie v1';
const MAX_ENTRIES = 5;
const ENTRY = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export function createDeviceCookies(refreshTokenKeyBase64url: string) {
  const key = Buffer.from(crypto.hkdfSync('sha256', Buffer.from(refreshTokenKeyBase64url, 'base64url'), Buffer.alloc(0), LABEL, 32));
  const mac = (email: string, deviceId: string) => crypto.createHmac('sha256', key).update(`${email}\n${deviceId}`).digest();

  /** The device id of one entry if it is genuinely ours for that account (constant-time compare). */
  const deviceOf = (entry: string, email: string): string | undefined => {
    const m = ENTRY.exec(entry);
    if (!m || !isCanonicalBase64url(m[1]!) || !isCanonicalBase64url(m[2]!)) return undefined;
    const given = Buffer.from(m[2]!, 'base64url');
    const expected = mac(email, m[1]!);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected) ? m[1] : undefined;
  };
  const entriesOf = (cookie: string | undefined) => (typeof cookie === 'string' && cookie.length <= 1000 ? cookie.split('~').slice(0, MAX_ENTRIES) : []);

  return {
    /** The device id the cookie proves for this account, or undefined (none, forged, another account's). */
    recognise(cookie: string | undefined, email: string): string | undefined {
      for (const entry of entriesOf(cookie)) {
        const id = deviceOf(entry, email);
        if (id) return id;
      }
      return undefined;
    },

    /** The cookie value after a successful sign-in: a fresh device id for this account, other accounts' entries kept. */
    issue(cookie: string | undefined, email: string): string {
      const deviceId = crypto.randomBytes(16).toString('base64url');
      const fresh = `${deviceId}.${mac(email, deviceId).toString('base64url')}`;
      const others = entriesOf(cookie).filter((entry) => ENTRY.test(entry) && !deviceOf(entry, email));
      return [fresh, ...others].slice(0, MAX_ENTRIES).join('~');
    },
  };
}

export type DeviceCookies = ReturnType<typeof createDeviceCookies>;
