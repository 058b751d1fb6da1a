import nodemailer from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends mail; rejects with an error whose message and code carry no part of the message. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** The SMTP server behind SMTP_URL, through nodemailer (one pooled-free transport, timeouts bounded). */
export function createSmtpMailer(options: { smtpUrl: string; from: string; timeoutMs: number }): Mailer {
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    // No nodemailer logging: its debug output would contain the message, link included.
    logger: false,
    debug: false,
  });
  return {
    async send(message) {
      await transport.sendMail({ from: options.from, ...message });
    },
    close() {
      transport.close();
    },
  };
}

const escapeHtml = (value: string) =>
  value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

/** The reset mail: a plain-text part and an HTML part saying the same, with the link. */
export function resetMail(to: string, link: string, validMinutes: number): MailMessage {
  const text = [
    'Someone (hopefully you) asked to reset the password of your account.',
    '',
    `To choose a new password, open this link within ${validMinutes} minutes:`,
    link,
    '',
    'Setting a new password signs you out on every device.',
    "If you did not ask for this, ignore this mail: your password stays as it is.",
  ].join('\n');
  const safe = escapeHtml(link);
  const html = `<!doctype html><html><body style="font-family: system-ui, sans-serif; line-height: 1.5">
<p>Someone (hopefully you) asked to reset the password of your account.</p>
<p><a href="${safe}">Choose a new password</a> (the link works for ${validMinutes} minutes).</p>
<p>Or copy this address into your browser:<br><code>${safe}</code></p>
<p>Setting a new password signs you out on every device. If you did not ask for this, ignore this mail: your password stays as it is.</p>
</body></html>`;
  return { to, subject: 'Reset your password', text, html };
}
