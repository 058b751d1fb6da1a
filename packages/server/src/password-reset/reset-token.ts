import crypto from 'node:crypto';

/**
 * Password-reset tokens: 256 random bits (crypto.randomBytes), base64url. Only their SHA-256 is
 * stored: with that much entropy a fast hash is enough (nothing to brute-force), and a database
 * dump opens no account.
 */
export const RESET_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function newResetToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function hashResetToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

/**
 * The link a reset mail or webhook carries: the devices page's reset form, the token in the
 * `token` query parameter. The page replaces its URL at once (no token in history or a Referer),
 * and the service's request log never prints a `token` parameter (observability/access-log.ts).
 */
export function resetLink(publicUrl: string, token: string): string {
  return `${publicUrl}/reset-password?token=${token}`;
}

/**
 * Seals a link for the webhook outbox. The event row (the audit log, readable by operators at
 * /admin/events, and in every database backup) must not hold a usable reset link; so it holds it
 * encrypted (AES-256-GCM) with a key derived from the key file's secret, which is not in the
 * database, and the webhook deliverer opens it only to sign and send it.
 */
export function createLinkSealer(secret: string) {
  const key = Buffer.from(crypto.hkdfSync('sha256', Buffer.from(secret), Buffer.alloc(0), 'sessiond password-reset link seal', 32));
  return {
    seal(link: string): string {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(link, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    /** The link, or undefined when the value was not sealed with this key (or was altered). */
    open(sealed: string): string | undefined {
      try {
        const raw = Buffer.from(sealed, 'base64url');
        const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}

export type LinkSealer = ReturnType<typeof createLinkSealer>;
