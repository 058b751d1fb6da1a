import crypto from 'node:crypto';

/** The three headers of a signed delivery (Standard Webhooks, https://www.standardwebhooks.com). */
export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs one delivery as Standard Webhooks does: `v1,` + base64 HMAC-SHA256 over
 * "<id>.<timestamp>.<body>", keyed with the UTF-8 bytes of the shared secret. The id and the
 * timestamp are inside the MAC, so a captured request cannot be replayed under another id, nor
 * (past the receiver's tolerance, 5 minutes in the reference libraries) at a later time.
 * The timestamp is the time of this attempt, not of the event: a retry is signed anew.
 */
export function signWebhook(secret: string, message: { id: string; timestampSeconds: number; body: string }): WebhookSignatureHeaders {
  const timestamp = String(message.timestampSeconds);
  const mac = crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${message.id}.${timestamp}.${message.body}`, 'utf8').digest('base64');
  return { 'webhook-id': message.id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${mac}` };
}
