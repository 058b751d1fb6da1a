import crypto from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { EventStore, SessionEvent } from './session-event.ts';
import type { WebhookCursorStore } from './webhook-cursor-store.ts';
import { signWebhook } from './webhook-signature.ts';

export interface WebhookRetryPolicy {
  /** Wait after the first failure; doubles with each further failure. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Up to this fraction of each wait is taken off at random. */
  jitterRatio: number;
}

export interface WebhookDelivererOptions {
  /** The configured URLs; each has its own cursor, lease and backoff. */
  endpoints: string[];
  /** HMAC key of the signatures; at least 32 characters. */
  secret: string;
  /** How often the timer runs a round; 0 = no timer (tests call tick()). */
  pollIntervalMs: number;
  /** One POST is abandoned after this long (and counts as a failure). */
  timeoutMs: number;
  /** Events per endpoint per round. */
  batchSize: number;
  /**
   * How long a lease lasts unless renewed. The holder renews it at every round, every POST, and
   * every leaseMs / 3 from a heartbeat while it runs, so a POST may take longer than the lease; a
   * holder that dies (kill -9) frees its endpoints within leaseMs.
   */
  leaseMs: number;
  retry: WebhookRetryPolicy;
  userAgent: string;
}

export const webhookDeliveryDefaults = {
  pollIntervalMs: 1000,
  timeoutMs: 5000,
  batchSize: 100,
  leaseMs: 3000,
  retry: { initialDelayMs: 1000, maxDelayMs: 5 * 60_000, jitterRatio: 0.2 },
} satisfies Partial<WebhookDelivererOptions>;

/** Where the deliverer reports failures; never given a secret, a signature or a header. */
export interface WebhookLog {
  warn(details: object, message: string): void;
}

export interface WebhookDelivererDeps {
  events: EventStore;
  cursors: WebhookCursorStore;
  clock: Clock;
  log: WebhookLog;
  random?: () => number;
  /**
   * The `data` an event is sent with, when it differs from what the outbox stores: a
   * password_reset.requested event stores its link sealed (password-reset/reset-token.ts) and is
   * sent with it opened. Called only to build the POST body; its result is never logged.
   */
  revealData?: (event: SessionEvent) => Record<string, unknown>;
}

/** What one round did for one endpoint. */
export interface WebhookRoundResult {
  /** The endpoint as shown in logs and metrics (origin and path: no query, which may hold a token). */
  endpoint: string;
  /** This instance held the lease; otherwise another one is delivering to this endpoint. */
  leaseHeld: boolean;
  delivered: number;
  /** Why the attempt that ended this round failed, if one did. */
  failure?: string;
  /** A whole batch was delivered: more may be waiting. */
  more: boolean;
}

export interface WebhookEndpointMetrics {
  endpoint: string;
  /** now - occurred_at of the oldest event not yet acknowledged (0 when up to date), as of the last round. */
  lagMs: number;
  /** Events acknowledged with a 2xx by this process. */
  delivered: number;
  /** Failed attempts by this process (non-2xx, timeout, connection error). */
  failures: number;
  leaseHeld: boolean;
}

/** The wire format of one event (with `data` as revealData gave it, if it did). */
export function webhookPayload(event: SessionEvent, data: Record<string, unknown> = event.data) {
  return {
    id: event.id,
    type: event.type,
    occurredAt: new Date(event.occurredAtMs).toISOString(),
    sessionId: event.sessionId,
    userId: event.userId,
    reason: event.reason,
    data,
  };
}

/**
 * The wait after `failures` consecutive failures: initialDelayMs doubling per failure, capped at
 * maxDelayMs, minus up to jitterRatio of it at random. The jitter spreads the retries of endpoints
 * that failed together (one receiver outage); taking it off (never adding) keeps the schedule
 * growing: 0.8 x 2d is still more than d.
 */
export function retryDelayMs(failures: number, retry: WebhookRetryPolicy, random: () => number = Math.random): number {
  const capped = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.round(capped * (1 - retry.jitterRatio * random()));
}

/** Logs and metrics name an endpoint without its query string or fragment. */
function displayEndpoint(url: string): string {
  const u = new URL(url);
  return u.origin + u.pathname;
}

/** A short, secret-free reason for a failed POST. */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof code === 'string') return code; // ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET…
  return error instanceof Error ? error.name : 'unknown error';
}

interface EndpointState {
  url: string;
  display: string;
  round: Promise<WebhookRoundResult> | undefined;
  /** Aborts the POST in flight when the heartbeat finds the lease lost. */
  inFlight: AbortController | undefined;
  nextPendingOccurredAtMs: number | null;
  delivered: number;
  failures: number;
  leaseHeld: boolean;
}

/** Rounds run back to back by one timer firing while full batches keep coming. */
const MAX_ROUNDS_PER_POLL = 10;

/**
 * Delivers the session-event outbox to the configured webhook endpoints: at least once, in event id
 * order per endpoint, signed (webhook-signature.ts).
 *
 * Per endpoint, one row of webhook_cursors holds the position (a place in the event feed:
 * EventStore.feedAfter, which returns every event once its transaction has committed, however late),
 * the backoff and a lease. A round takes the lease with a conditional UPDATE (free, expired or
 * already ours), reads the next batch after the position, and POSTs the events one at a time; each
 * 2xx moves the position and renews the lease in one conditional UPDATE; a heartbeat renews it
 * meanwhile, so a dead holder frees it within leaseMs. The first failure records the backoff and
 * ends the round: no later event overtakes it. Whoever dies (the receiver, this process), the cursor names the last
 * acknowledged event; a crash between a 2xx and the cursor write means that event is delivered
 * again (at least once: receivers deduplicate by webhook-id). Another instance takes an expired
 * lease over and continues from the cursor.
 *
 * Rounds run on a timer in the background, with Node's fetch: nothing here runs inside a request.
 */
export class WebhookDeliverer {
  /**
   * This process's lease identity; random, so a restarted process never takes an old lease for its
   * own. A stable identity (a host name, a configured instance id) would let a restart resume at
   * once, but two processes given the same one (a copied configuration, a container restarted
   * while the old one still runs) would both believe they hold the lease and deliver side by side,
   * out of order. A restart waits for its old lease instead: at most leaseMs (3 s).
   */
  readonly owner = `${process.pid}-${crypto.randomUUID()}`;
  private readonly options: WebhookDelivererOptions;
  private readonly endpoints: EndpointState[];
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly deps: WebhookDelivererDeps,
    options: Pick<WebhookDelivererOptions, 'endpoints' | 'secret' | 'userAgent'> & Partial<WebhookDelivererOptions>,
  ) {
    this.options = { ...webhookDeliveryDefaults, ...options };
    if (this.options.secret.length < 32) throw new Error('The webhook secret must have at least 32 characters.');
    if (this.options.leaseMs < 300) throw new Error('The webhook lease must last at least 300 ms (it is renewed every third of it).');
    this.endpoints = [...new Set(this.options.endpoints)].map((url) => ({
      url,
      display: displayEndpoint(url),
      round: undefined,
      inFlight: undefined,
      nextPendingOccurredAtMs: null,
      delivered: 0,
      failures: 0,
      leaseHeld: false,
    }));
  }

  /**
   * Creates the cursors of endpoints seen for the first time, at the feed's head: a new endpoint
   * receives the events from its configuration on, not the whole audit log. Known endpoints keep
   * their cursor (a restart resumes where delivery stopped).
   */
  async init(): Promise<void> {
    const head = await this.deps.events.feedHead();
    for (const endpoint of this.endpoints) await this.deps.cursors.ensure(endpoint.url, head);
  }

  /** Starts the background timer and the lease heartbeat (unless pollIntervalMs is 0). */
  start(): void {
    if (this.timer || this.stopping || this.options.pollIntervalMs <= 0) return;
    this.timer = setInterval(() => void this.drain(), this.options.pollIntervalMs);
    this.timer.unref();
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.floor(this.options.leaseMs / 3));
    this.heartbeat.unref();
  }

  /**
   * Renews the leases this process holds; run every leaseMs / 3, so a POST that outlasts the lease
   * (up to timeoutMs) keeps it, and a paused or dead process loses it within leaseMs. A lease found
   * lost aborts the POST in flight: the new holder sends that event again (at least once).
   */
  async renewLeases(): Promise<void> {
    await Promise.all(
      this.endpoints.filter((endpoint) => endpoint.leaseHeld && !this.stopping).map(async (endpoint) => {
        try {
          if (await this.deps.cursors.renew(endpoint.url, this.owner, { nowMs: this.deps.clock.now(), leaseMs: this.options.leaseMs })) return;
          endpoint.leaseHeld = false;
          endpoint.inFlight?.abort();
        } catch (error) {
          // The database does not answer: the lease will lapse unless a later renewal succeeds.
          this.deps.log.warn({ endpoint: endpoint.display, err: error }, 'webhook lease not renewed');
        }
      }),
    );
  }

  /**
   * One round for every endpoint, at most one batch each; never rejects (failures are logged and
   * counted). A round already in flight for an endpoint is shared, not doubled.
   */
  tick(): Promise<WebhookRoundResult[]> {
    return Promise.all(this.endpoints.map((endpoint) => this.runRound(endpoint)));
  }

  /**
   * Graceful stop: no new round or POST starts; a POST in flight finishes (bounded by timeoutMs) and,
   * on a 2xx, moves the cursor before this resolves, so the database is consistent when the app
   * closes it. Then the leases are released for another instance to take over at once.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = undefined;
    this.heartbeat = undefined;
    await this.draining;
    await Promise.all(this.endpoints.map((endpoint) => endpoint.round).filter((round) => round !== undefined));
    for (const endpoint of this.endpoints) {
      try {
        await this.deps.cursors.release(endpoint.url, this.owner);
      } catch (error) {
        // Not fatal: the lease simply expires after leaseMs.
        this.deps.log.warn({ endpoint: endpoint.display, err: error }, 'webhook lease not released');
      }
      endpoint.leaseHeld = false;
    }
  }

  /** Delivery lag: now - occurred_at of the oldest unacknowledged event, the worst endpoint; 0 when all are up to date. */
  get lagMs(): number {
    return Math.max(0, ...this.endpoints.map((endpoint) => this.lagOf(endpoint)));
  }

  /** Failed attempts by this process, all endpoints. */
  get failuresTotal(): number {
    return this.endpoints.reduce((sum, endpoint) => sum + endpoint.failures, 0);
  }

  /** Acknowledged deliveries by this process, all endpoints. */
  get deliveredTotal(): number {
    return this.endpoints.reduce((sum, endpoint) => sum + endpoint.delivered, 0);
  }

  /** Per-endpoint lag and counters, for metrics. */
  endpointMetrics(): WebhookEndpointMetrics[] {
    return this.endpoints.map((endpoint) => ({
      endpoint: endpoint.display,
      lagMs: this.lagOf(endpoint),
      delivered: endpoint.delivered,
      failures: endpoint.failures,
      leaseHeld: endpoint.leaseHeld,
    }));
  }

  private lagOf(endpoint: EndpointState): number {
    return endpoint.nextPendingOccurredAtMs === null ? 0 : Math.max(0, this.deps.clock.now() - endpoint.nextPendingOccurredAtMs);
  }

  /** One timer firing: rounds until no endpoint has a full batch behind it (bounded), one firing at a time. */
  private drain(): Promise<void> {
    this.draining ??= (async () => {
      for (let i = 0; i < MAX_ROUNDS_PER_POLL && !this.stopping; i++) {
        const results = await this.tick();
        if (!results.some((r) => r.more)) break;
      }
    })().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private runRound(endpoint: EndpointState): Promise<WebhookRoundResult> {
    endpoint.round ??= this.round(endpoint).finally(() => {
      endpoint.round = undefined;
    });
    return endpoint.round;
  }

  private async round(endpoint: EndpointState): Promise<WebhookRoundResult> {
    const result: WebhookRoundResult = { endpoint: endpoint.display, leaseHeld: false, delivered: 0, more: false };
    if (this.stopping) return result;
    const { cursors, events, clock, log } = this.deps;
    const { leaseMs, batchSize, retry } = this.options;
    try {
      const nowMs = clock.now();
      const cursor = await cursors.acquire(endpoint.url, this.owner, { nowMs, leaseMs });
      endpoint.leaseHeld = result.leaseHeld = cursor !== undefined;
      const stored = cursor ?? (await cursors.get(endpoint.url));
      if (!stored) await this.init(); // the row was deleted by hand
      let position = stored?.feedPosition ?? (await events.feedHead());
      // The events after the position: every one committed so far, however late its commit.
      const page = await events.feedAfter(position, { limit: batchSize });
      let pending = page.events;
      if (cursor && nowMs >= cursor.nextAttemptAtMs) {
        let attempts = cursor.attempts;
        for (const [index, event] of page.events.entries()) {
          if (this.stopping || !endpoint.leaseHeld) break;
          const failure = await this.post(endpoint, event);
          if (failure === undefined) {
            // After the last event of a page that ended its segment, the page's position (the
            // start of the next segment) says the same, and the next read starts from there.
            const to = index === page.events.length - 1 && !page.more ? page.position : event.position;
            if (!(await cursors.advance(endpoint.url, this.owner, { from: position, to, eventId: event.id }, { nowMs: clock.now(), leaseMs }))) {
              // We lost the lease (paused past its expiry): the new holder continues from the cursor.
              endpoint.leaseHeld = result.leaseHeld = false;
              break;
            }
            position = to;
            pending = page.events.slice(index + 1);
            attempts = 0;
            result.delivered++;
            endpoint.delivered++;
            continue;
          }
          attempts++;
          endpoint.failures++;
          result.failure = failure;
          const retryInMs = retryDelayMs(attempts, retry, this.deps.random);
          await cursors.recordFailure(endpoint.url, this.owner, { attempts, nextAttemptAtMs: clock.now() + retryInMs, error: failure });
          log.warn({ endpoint: endpoint.display, eventId: event.id, attempt: attempts, error: failure, retryInMs }, 'webhook delivery failed; will retry');
          break;
        }
        result.more = result.delivered === batchSize;
      }
      endpoint.nextPendingOccurredAtMs = pending[0]?.occurredAtMs ?? null;
    } catch (error) {
      // The database is unreachable, most likely: nothing moved, the next round tries again.
      log.warn({ endpoint: endpoint.display, err: error }, 'webhook delivery round failed');
    }
    return result;
  }

  /** POSTs one event; undefined on a 2xx, else a short reason. */
  private async post(endpoint: EndpointState, event: SessionEvent): Promise<string | undefined> {
    const url = endpoint.url;
    const body = JSON.stringify(webhookPayload(event, this.deps.revealData?.(event)));
    const lost = new AbortController();
    endpoint.inFlight = lost;
    const signature = signWebhook(this.options.secret, { id: String(event.id), timestampSeconds: Math.floor(this.deps.clock.now() / 1000), body });
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': this.options.userAgent, ...signature },
        body,
        // A redirect is no acknowledgement, and following it would send the signed event to a URL
        // nobody configured.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), lost.signal]),
      });
      // The answer's body is not needed; dropping it frees the connection.
      await response.body?.cancel().catch(() => {});
      return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      return lost.signal.aborted ? 'lease lost' : describeFailure(error, this.options.timeoutMs);
    } finally {
      endpoint.inFlight = undefined;
    }
  }
}
