import type { EventLog, LogEvent, LogPosition } from './event-log.ts';

export type HubListener = (events: LogEvent[]) => void;

export interface SessionEventHubOptions {
  /** How often the feed is read while anyone listens (pokes make it sooner). */
  pollIntervalMs: number;
  /** Events per read; a full batch is followed at once by the next. */
  batchLimit: number;
}

/**
 * One reader of the session-events feed per process, fanning out to every open stream (services'
 * revocation streams, devices' event streams): 10,000 open streams cost one query per read, not
 * 10,000. Reads happen on a timer while anyone listens, and at once when poked (a session created or
 * ended here, or a revocation announced by another instance on a revocation channel), so an end
 * reaches the streams in milliseconds. The feed is ordered by commit and resumes from a position,
 * so a late commit is read late, never skipped. Nothing is read while nobody listens.
 */
export class SessionEventHub {
  private current: LogPosition | undefined;
  private readonly listeners = new Set<HubListener>();
  private reading: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly options: SessionEventHubOptions,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * Where the hub has read to: every event before it was delivered to the listeners present then,
   * or committed before they subscribed (and so is theirs to catch up on).
   */
  get position(): LogPosition | undefined {
    return this.current;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * Adds a listener; events read from now on are passed to it. Returns the function that removes it.
   * A listener catches up on what came before by itself, after subscribing (and de-duplicates).
   */
  async subscribe(listener: HubListener): Promise<() => void> {
    if (this.current === undefined || (this.listeners.size === 0 && !this.timer)) {
      // Nobody listened: start from the head (earlier events are each listener's catch-up).
      this.starting ??= this.log
        .head()
        .then((head) => {
          this.current = head;
          if (!this.timer) {
            this.timer = setInterval(() => this.request(), this.options.pollIntervalMs);
            this.timer.unref();
          }
        })
        .finally(() => {
          this.starting = undefined;
        });
    }
    this.listeners.add(listener);
    try {
      await this.starting;
    } catch (error) {
      this.listeners.delete(listener);
      throw error;
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
        this.current = undefined;
      }
    };
  }

  /** Something was just committed (here or on another instance): read now. */
  poke(): void {
    if (this.listeners.size > 0) this.request();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    await this.reading;
  }

  /** Single-flight reads; requests during a read are merged into one more read after it. */
  private request(): void {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.read()
      .catch(this.onError)
      .finally(() => {
        this.reading = undefined;
        if (this.again && this.listeners.size > 0) {
          this.again = false;
          this.request();
        }
      });
  }

  private async read(): Promise<void> {
    if (this.current === undefined) return;
    const page = await this.log.after(this.current, { limit: this.options.batchLimit });
    this.current = page.position;
    if (page.more) this.again = true;
    if (page.events.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(page.events);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
