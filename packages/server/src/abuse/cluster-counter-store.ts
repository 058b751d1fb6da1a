import cluster from 'node:cluster';
import { askPrimary } from '../cluster-ipc.ts';
import { MemoryCounterStore, type AttemptVerdict, type BackoffPolicy, type CounterStore } from './counter-store.ts';

/**
 * The rate-limit counters of a `WORKERS=N` server without Redis (node:cluster). Each worker counting
 * in its own memory would multiply every limit by N: the primary hands connections out round robin,
 * so a password guesser gets N times the documented budget. Instead the primary keeps the one
 * in-memory store and the workers ask it over IPC (a round trip of well under a millisecond, on the
 * sign-in, sign-up and refresh paths only). With Redis the counters are in Redis, as for instances.
 */
const REQUEST = 'sessiond:counter';
const RESULT = 'sessiond:counter-result';
/**
 * An answer the primary did not give within this is given by the worker's own memory, as when Redis
 * does not answer (abuse/redis-counter-store.ts): the bound then holds per worker, never not at all.
 */
const ANSWER_TIMEOUT_MS = 1000;

type Operation =
  | { op: 'increment'; key: string; windowMs: number }
  | { op: 'attempt'; key: string; policy: BackoffPolicy }
  | { op: 'reset'; key: string };

interface Answer {
  type: typeof RESULT;
  id: number;
  result?: unknown;
}

/** In a worker: the counter store, kept by the primary. */
export class ClusterCounterStore implements CounterStore {
  constructor(private readonly fallback: CounterStore) {}

  increment(key: string, windowMs: number): Promise<{ count: number; resetAtMs: number }> {
    return this.ask({ op: 'increment', key, windowMs }, () => this.fallback.increment(key, windowMs));
  }

  attempt(key: string, policy: BackoffPolicy): Promise<AttemptVerdict> {
    return this.ask({ op: 'attempt', key, policy }, () => this.fallback.attempt(key, policy));
  }

  reset(key: string): Promise<void> {
    return this.ask({ op: 'reset', key }, () => this.fallback.reset(key));
  }

  private async ask<T>(operation: Operation, locally: () => Promise<T>): Promise<T> {
    const answer = await askPrimary<Answer>({ type: REQUEST, ...operation }, RESULT, ANSWER_TIMEOUT_MS);
    return answer && 'result' in answer ? (answer.result as T) : locally();
  }
}

/** In the primary: keeps the workers' counters (one store for the whole server) and answers them. */
export function serveClusterCounters(now: () => number = Date.now): void {
  const store = new MemoryCounterStore(now);
  cluster.on('message', (worker, msg: unknown) => {
    const m = msg as Partial<Operation> & { type?: unknown; id?: unknown };
    if (m?.type !== REQUEST || typeof m.id !== 'number' || typeof m.key !== 'string') return;
    const id = m.id;
    const run =
      m.op === 'increment' && typeof m.windowMs === 'number' ? store.increment(m.key, m.windowMs)
      : m.op === 'attempt' && m.policy ? store.attempt(m.key, m.policy)
      : m.op === 'reset' ? store.reset(m.key).then(() => null)
      : undefined;
    // An operation it cannot read gets no answer: the worker then counts in its own memory.
    void run?.then((result) => worker.isConnected() && worker.send({ type: RESULT, id, result } satisfies Answer));
  });
}
