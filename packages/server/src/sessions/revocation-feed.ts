import type { Clock } from '../clock.ts';
import type { SessionCache } from './session-cache.ts';
import type { SessionStore } from './session-store.ts';

export interface RevocationFeedOptions {
  pollIntervalMs: number;
  /**
   * Each poll re-reads revocations this far back, so a revocation whose transaction committed a
   * little after its revoked_at timestamp (or was stamped by a process with a slightly slower
   * clock) is still seen.
   */
  overlapMs: number;
  /** Rows per poll; more than this means the feed cannot tell what it missed: clear the cache. */
  batchLimit: number;
}

/**
 * Tells this process about revocations made by other processes, by polling the sessions table's
 * revoked_at index. It is the guaranteed path; push channels (Redis pub/sub, LISTEN/NOTIFY) only
 * make it faster. Every successful poll marks the cache as synced; a failed poll does not, so the
 * cache stops being trusted once the feed is older than its staleness bound.
 */
export class RevocationFeed {
  private timer: NodeJS.Timeout | undefined;
  private cursorMs: number;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: SessionStore,
    private readonly cache: SessionCache,
    private readonly clock: Clock,
    private readonly options: RevocationFeedOptions,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.cursorMs = clock.now();
  }

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
      const rows = await this.store.revokedSince(this.cursorMs - this.options.overlapMs, this.options.batchLimit);
      if (rows.length >= this.options.batchLimit) {
        this.cache.clear();
      } else {
        this.cache.markRevoked(rows.map((r) => r.id));
      }
      this.cursorMs = startedAtMs;
      this.cache.markSynced(startedAtMs);
    } catch (error) {
      this.onError(error);
    }
  }
}
