import type { Clock } from '../clock.ts';
import { sessionEndTypes, type EventStore, type FeedPosition } from '../events/session-event.ts';
import type { SessionCache } from './session-cache.ts';

export interface RevocationFeedOptions {
  pollIntervalMs: number;
  /** Events per read; a poll reads on until it has caught up. */
  pageSize: number;
  /** More revocations than this in one poll: the cache is cleared instead of tombstoned one by one. */
  batchLimit: number;
}

/**
 * Tells this process about revocations made by other processes, by reading the session-event feed
 * (EventStore.feedAfter) from where the previous poll stopped. It is the guaranteed path; push
 * channels (Redis pub/sub, LISTEN/NOTIFY) only make it faster.
 *
 * The feed returns every revocation once its transaction has committed, however late that commit
 * is (a lock wait, a slow disk, a synchronous standby): no look-back window, no assumption about
 * transaction length or clocks. Every poll that reads up to the feed's head marks the cache as
 * synced (as of the poll's start); a failed poll does not, so the cache stops being trusted once
 * the feed is older than its staleness bound.
 */
export class RevocationFeed {
  private timer: NodeJS.Timeout | undefined;
  private position: FeedPosition | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly events: EventStore,
    private readonly cache: SessionCache,
    private readonly clock: Clock,
    private readonly options: RevocationFeedOptions,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.pollOnce(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One poll; concurrent calls share the one in flight. */
  pollOnce(): Promise<void> {
    this.running ??= this.poll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async poll(): Promise<void> {
    const startedAtMs = this.clock.now();
    try {
      // The first poll starts at the head: the cache is empty then, and whatever was revoked before
      // is visible to every later database read.
      let position = this.position ?? (await this.events.feedHead());
      let seen = 0;
      for (;;) {
        const page = await this.events.feedAfter(position, { limit: this.options.pageSize, types: sessionEndTypes });
        seen += page.events.length;
        if (seen > this.options.batchLimit) this.cache.clear();
        else this.cache.markRevoked(page.events.flatMap((e) => (e.sessionId === null ? [] : [e.sessionId])));
        position = page.position;
        this.position = position; // a later failure resumes from here, nothing read is read again
        if (!page.more) break;
      }
      this.cache.markSynced(startedAtMs);
    } catch (error) {
      this.onError(error);
    }
  }
}
