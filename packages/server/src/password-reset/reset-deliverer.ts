import crypto from 'node:crypto';
import type { Clock } from '../clock.ts';
import { retryDelayMs, type WebhookRetryPolicy } from '../events/webhook-deliverer.ts';
import type { UserStore } from '../users/user-store.ts';
import type { PasswordResetStore, ResetRequest } from './password-reset-store.ts';
import type { Mailer } from './reset-mail.ts';
import { resetMail } from './reset-mail.ts';
import { hashResetToken, newResetToken, resetLink, type LinkSealer } from './reset-token.ts';

/** Where the deliverer reports; given request ids and short reasons, never an email, token or link. */
export interface ResetDeliveryLog {
  warn(details: object, message: string): void;
}

export interface ResetDelivererOptions {
  /** Links start with it; without it nothing can be delivered. */
  publicUrl: string | undefined;
  tokenTtlMs: number;
  /** How often the timer runs a round; 0 = no timer (tests call tick()). */
  pollIntervalMs: number;
  /** Requests per round. */
  batchSize: number;
  /** A lease outlives one delivery attempt (the SMTP timeout) by far. */
  leaseMs: number;
  retry: WebhookRetryPolicy;
  /** Webhooks are configured: without a mailer, the link goes out as a password_reset.requested event. */
  webhooks: boolean;
}

export interface ResetDelivererDeps {
  store: PasswordResetStore;
  users: UserStore;
  clock: Clock;
  log: ResetDeliveryLog;
  /** The SMTP server; undefined without SMTP_URL. */
  mailer: Mailer | undefined;
  sealer: LinkSealer;
  random?: () => number;
}

/** What one round did. */
export interface ResetRoundResult {
  /** Mails accepted by the SMTP server, or events written to the webhook outbox. */
  delivered: number;
  /** Requests for an email without an account (nothing sent), or given up. */
  dropped: number;
  /** Failed attempts (to be retried). */
  failed: number;
}

/** Done requests are kept this long (a trace for operators), then purged. */
const DONE_RETENTION_MS = 24 * 3600_000;

/** A short, secret-free reason for a failed SMTP attempt. */
function describeFailure(error: unknown): string {
  const e = error as { code?: unknown; responseCode?: unknown; name?: unknown } | undefined;
  if (typeof e?.responseCode === 'number') return `SMTP ${e.responseCode}`;
  if (typeof e?.code === 'string') return e.code; // ECONNECTION, ETIMEDOUT, EAUTH, EENVELOPE…
  return error instanceof Error ? error.name : 'unknown error';
}

/**
 * Delivers password-reset links in the background, never inside a request: the request only
 * queued an email (password_reset_requests), the same insert whether or not it has an account.
 *
 * Per request (leased, so one instance handles it): find the account; none -> done, nothing sent.
 * Otherwise a new token is made now and its hash stored, replacing (voiding) any earlier one; the
 * token itself exists only in memory until it is in the mail. Then:
 * - with SMTP: the mail is sent; a failure (server down, refusing, timeout) is counted, logged with
 *   a short reason and retried with the webhooks' back-off; each retry makes a new token (the one
 *   of the failed attempt was never seen by anyone, or if the server did take it after all, the
 *   newer mail supersedes it). After the token lifetime a request is given up: the user has asked
 *   again or moved on.
 * - without SMTP but with webhooks: a password_reset.requested event is written to the webhook
 *   outbox in the same transaction as the token, its link sealed; the webhook deliverer sends it.
 * Nothing about the token ever reaches a log, a metric or a database column in plain text.
 */
export class PasswordResetDeliverer {
  readonly owner = `${process.pid}-${crypto.randomUUID()}`;
  deliveredTotal = 0;
  failuresTotal = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ResetRoundResult> | undefined;
  private stopping = false;
  private warnedUndeliverable = false;

  constructor(
    private readonly deps: ResetDelivererDeps,
    private readonly options: ResetDelivererOptions,
  ) {}

  start(): void {
    if (this.timer || this.stopping || this.options.pollIntervalMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  /** One round (shared when one is already running); never rejects. */
  tick(): Promise<ResetRoundResult> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** No new round starts; the one in flight finishes (bounded by the SMTP timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    this.deps.mailer?.close();
  }

  private async round(): Promise<ResetRoundResult> {
    const result: ResetRoundResult = { delivered: 0, dropped: 0, failed: 0 };
    if (this.stopping) return result;
    const { store, clock, log } = this.deps;
    try {
      const nowMs = clock.now();
      const due = await store.claimDue(this.owner, nowMs, this.options.leaseMs, this.options.batchSize);
      for (const request of due) {
        if (this.stopping) break; // the lease lapses; another round (or instance) takes it
        await this.handle(request, result);
      }
      await store.purge(nowMs - DONE_RETENTION_MS, nowMs);
    } catch (error) {
      // The database is unreachable, most likely: nothing moved, the next round tries again.
      log.warn({ err: error }, 'password reset delivery round failed');
    }
    return result;
  }

  private async handle(request: ResetRequest, result: ResetRoundResult): Promise<void> {
    const { store, users, clock, log, mailer, sealer } = this.deps;
    const { publicUrl, tokenTtlMs } = this.options;
    const nowMs = clock.now();
    const user = await users.findByEmail(request.email);
    if (!user) {
      await store.complete(request.id, this.owner, nowMs, 'no account');
      result.dropped++;
      return;
    }
    if (!publicUrl || (!mailer && !this.options.webhooks)) {
      if (!this.warnedUndeliverable) {
        this.warnedUndeliverable = true;
        log.warn({ requestId: request.id }, 'password reset requested but cannot be delivered: set PUBLIC_URL and SMTP_URL (or WEBHOOK_URLS)');
      }
      await store.complete(request.id, this.owner, nowMs, 'not configured');
      result.dropped++;
      return;
    }
    if (nowMs - request.requestedAtMs > tokenTtlMs) {
      log.warn({ requestId: request.id, attempts: request.attempts }, 'password reset mail given up');
      await store.complete(request.id, this.owner, nowMs, 'given up');
      result.dropped++;
      return;
    }
    const token = newResetToken();
    const link = resetLink(publicUrl, token);
    const record = { userId: user.id, tokenHash: hashResetToken(token), createdAtMs: nowMs, expiresAtMs: nowMs + tokenTtlMs };
    if (!mailer) {
      await store.saveToken(record, {
        event: {
          type: 'password_reset.requested',
          sessionId: null,
          userId: user.id,
          reason: null,
          occurredAtMs: nowMs,
          data: { email: user.email, expiresAt: new Date(record.expiresAtMs).toISOString(), sealedLink: sealer.seal(link) },
        },
        complete: { id: request.id, owner: this.owner, nowMs },
      });
      result.delivered++;
      this.deliveredTotal++;
      return;
    }
    await store.saveToken(record);
    try {
      await mailer.send(resetMail(user.email, link, Math.round(tokenTtlMs / 60_000)));
    } catch (error) {
      const attempts = request.attempts + 1;
      const reason = describeFailure(error);
      const retryInMs = retryDelayMs(attempts, this.options.retry, this.deps.random);
      this.failuresTotal++;
      result.failed++;
      await store.recordFailure(request.id, this.owner, { attempts, nextAttemptAtMs: clock.now() + retryInMs, error: reason });
      log.warn({ requestId: request.id, attempt: attempts, error: reason, retryInMs }, 'password reset mail failed; will retry');
      return;
    }
    await store.complete(request.id, this.owner, clock.now());
    result.delivered++;
    this.deliveredTotal++;
  }
}
