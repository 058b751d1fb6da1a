import type { Clock } from '../clock.ts';
import type { SessionEvent } from '../events/session-event.ts';
import { sessionEndTypes, type EventLog } from './event-log.ts';

export type HubListener = (events: SessionEvent[]) => void;

export interface SessionEventHubOptions {
  /** How often the log is read while anyone listens (pokes make it sooner). */
  pollIntervalMs: number;
  /**
   * Each poll also re-reads the session ends stamped this far back, so an end whose transaction
   * committed after a higher id was read (PostgreSQL takes ids at insert, not at commit) is still
   * delivered. The same bound as the revocation feed's overlap.
   */
  overlapMs: number;
  /** Events per read; a full batch is followed at once by the next. */
  batchLimit: number;
}

/**
 * One reader of session_events per process, fanning out to every open stream (services' revocation
 * streams, devices' event streams): 10,000 open streams cost one query per poll, not 10,000. Reads
 * happen on a timer while anyone listens, and at once when poked (a revocation committed here, or
 * announced by another instance on a revocation channel), so a revocation reaches the streams in
 * milliseconds. Nothing is read while nobody listens.
 */
export class SessionEventHub {
  private lastId = 0;
  private readonly listeners = new Set<HubListener>();
  /** Ends delivered within the overlap (id -> stamp): what the re-read must not deliver twice. */
  private readonly recentEnds = new Map<number, number>();
  private reading: Promise<void> | undefined;
  private pending: 'none' | 'fresh' | 'overlap' = 'none';
  private timer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly clock: Clock,
    private readonly options: SessionEventHubOptions,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The highest event id read so far: everything at or below it was delivered or predates the listeners. */
  get position(): number {
    return this.lastId;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * Adds a listener; events read from now on are passed to it. Returns the function that removes it.
   * Listeners must then catch up on what came before by themselves (and de-duplicate).
   */
  async subscribe(listener: HubListener): Promise<() => void> {
    if (this.listeners.size === 0 && !this.timer) {
      // Nobody listened: start from the head (earlier events are each listener's catch-up).
      this.starting ??= this.log.headId().then(
        (id) => {
          this.lastId = Math.max(this.lastId, id);
          this.timer = setInterval(() => this.request('overlap'), this.options.pollIntervalMs);
          this.timer.unref();
        },
      ).finally(() => {
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
      }
    };
  }

  /** Something was just committed (here or on another instance): read now. */
  poke(): void {
    if (this.listeners.size > 0) this.request('fresh');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    await this.reading;
  }

  /** Single-flight reads; requests during a read are merged into one more read after it. */
  private request(kind: 'fresh' | 'overlap'): void {
    if (this.reading) {
      if (this.pending !== 'overlap') this.pending = kind;
      return;
    }
    this.reading = this.read(kind === 'overlap')
      .catch(this.onError)
      .finally(() => {
        this.reading = undefined;
        const next = this.pending;
        this.pending = 'none';
        if (next !== 'none' && this.listeners.size > 0) this.request(next);
      });
  }

  private async read(withOverlap: boolean): Promise<void> {
    const nowMs = this.clock.now();
    const fresh = await this.log.after(this.lastId, this.options.batchLimit);
    let late: SessionEvent[] = [];
    if (withOverlap) {
      const since = nowMs - this.options.overlapMs;
      const ends = await this.log.stampedSince(since, 0, this.options.batchLimit, sessionEndTypes);
      late = ends.filter((e) => e.id <= this.lastId && !this.recentEnds.has(e.id));
      for (const [id, stamp] of this.recentEnds) if (stamp < since - this.options.overlapMs) this.recentEnds.delete(id);
    }
    const events = late.length > 0 ? [...late, ...fresh] : fresh;
    for (const e of events) if (e.type === 'session.revoked' || e.type === 'session.expired') this.recentEnds.set(e.id, e.occurredAtMs);
    const last = fresh.at(-1);
    if (last) this.lastId = Math.max(this.lastId, last.id);
    if (events.length > 0) {
      for (const listener of this.listeners) {
        try {
          listener(events);
        } catch (error) {
          this.onError(error);
        }
      }
    }
    if (fresh.length >= this.options.batchLimit && this.pending === 'none') this.pending = 'fresh';
  }
}
