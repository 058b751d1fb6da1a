/**
 * Questions a `WORKERS=N` worker asks the cluster primary over IPC (node:cluster), matched to their
 * answers by id: the instance's merged metrics (observability/cluster-metrics.ts) and the shared
 * rate-limit counters (abuse/cluster-counter-store.ts). One listener and one id sequence per worker.
 */
let nextId = 0;
const pending = new Map<number, { answerType: string; settle: (answer: unknown) => void }>();
let listening = false;

/**
 * Sends `{ ...question, id }` to the primary and resolves with its answer (a message of
 * `answerType` carrying the same id), or with undefined when none comes within `timeoutMs` or the
 * question cannot be sent (not a worker, the channel closed). Never rejects: each caller decides
 * what no answer means.
 */
export function askPrimary<A>(question: { type: string } & object, answerType: string, timeoutMs: number): Promise<A | undefined> {
  if (!listening) {
    listening = true;
    process.on('message', (msg: unknown) => {
      const m = msg as { type?: unknown; id?: unknown };
      if (typeof m?.id !== 'number') return;
      const waiting = pending.get(m.id);
      if (waiting && waiting.answerType === m.type) waiting.settle(m);
    });
  }
  const id = nextId++;
  return new Promise((resolve) => {
    const settle = (answer: unknown) => {
      if (!pending.has(id)) return; // a late answer after the timeout, or a send error after the answer
      pending.delete(id);
      clearTimeout(timer);
      resolve(answer as A | undefined);
    };
    const timer = setTimeout(() => settle(undefined), timeoutMs);
    pending.set(id, { answerType, settle });
    if (!process.send) return settle(undefined);
    process.send({ ...question, id }, undefined, undefined, (error: Error | null) => {
      if (error) settle(undefined);
    });
  });
}
