import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw RFC 5322 message as received. */
  raw: string;
}

/**
 * A real SMTP server in the test process, on 127.0.0.1 (the `smtp-server` package): it receives
 * what sessiond's mailer sends over a real SMTP conversation. No TLS and no AUTH: both are the
 * SMTP client's business (nodemailer's), not what these tests are about.
 */
export class TestSmtpServer {
  readonly mails: ReceivedMail[] = [];
  /** When set, every message is refused with this SMTP reply code. */
  refuseWith: number | undefined;
  port = 0;
  private server: SMTPServer | undefined;
  private waiters: Array<() => void> = [];

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Listens (again, on the same port after close()). */
  async listen(): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.refuseWith !== undefined) {
            const error = Object.assign(new Error('refused by the test'), { responseCode: this.refuseWith });
            callback(error);
            return;
          }
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          for (const wake of this.waiters.splice(0)) wake();
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => {
        this.port = ((this.server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
        resolve();
      });
    });
  }

  /** Stops listening: connections are refused until listen(). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export async function startSmtpServer(t: TestContext): Promise<TestSmtpServer> {
  const smtp = new TestSmtpServer();
  await smtp.listen();
  t.after(() => smtp.close());
  return smtp;
}

/** A MIME part's text, decoded from quoted-printable (how nodemailer writes long lines). */
export function decodeQuotedPrintable(text: string): string {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The reset link of a received mail (from its text part), and what kinds of parts it has. */
export function readResetMail(mail: ReceivedMail): { link: string; token: string; hasText: boolean; hasHtml: boolean } {
  const decoded = decodeQuotedPrintable(mail.raw);
  const match = /(https?:\/\/[^\s"<]+\/reset-password\?token=([A-Za-z0-9_-]+))/.exec(decoded);
  if (!match) throw new Error(`no reset link in the mail:\n${mail.raw}`);
  return { link: match[1]!, token: match[2]!, hasText: /content-type: text\/plain/i.test(mail.raw), hasHtml: /content-type: text\/html/i.test(mail.raw) };
}
