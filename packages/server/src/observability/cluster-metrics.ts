import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { askPrimary } from '../cluster-ipc.ts';
import { AppError } from '../errors.ts';

/**
 * /metrics for `WORKERS=N` (node:cluster): a scrape reaches one worker (the workers share the
 * port), yet must show the whole instance. The worker that got the scrape asks the primary; the
 * primary asks every worker for its registry as JSON (prom-client's AggregatorRegistry protocol)
 * and merges them by each metric's `aggregator` (counters and histograms summed, so they only grow
 * while the workers live; the database-derived gauges take the max, not a sum of the same count).
 */
const SCRAPE_REQUEST = 'sessiond:metrics-scrape';
const SCRAPE_RESULT = 'sessiond:metrics-result';
/** prom-client gives up on a worker that does not answer after 5 s; ours waits a little longer. */
const SCRAPE_TIMEOUT_MS = 6000;

interface ScrapeResult {
  type: typeof SCRAPE_RESULT;
  id: number;
  text?: string;
  error?: string;
}

/** In a worker: lets the primary read this registry (prom-client answers its requests over IPC). */
export function answerPrimaryScrapes(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs prom-client's worker-side listener (idempotent)
}

/** In a worker: the whole instance's metrics, in the Prometheus text format, from the primary. */
export async function scrapeWholeCluster(): Promise<string> {
  const result = await askPrimary<ScrapeResult>({ type: SCRAPE_REQUEST }, SCRAPE_RESULT, SCRAPE_TIMEOUT_MS);
  if (result?.text !== undefined) return result.text;
  const why = result ? (result.error ?? 'unknown error') : 'no answer from the primary';
  throw new AppError('service_unavailable', `The instance's metrics could not be gathered (${why}).`, { retryAfterSeconds: 1 });
}

/** In the primary: answers the workers' scrape requests with every worker's metrics merged. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, msg: unknown) => {
    const m = msg as { type?: unknown; id?: unknown };
    if (m?.type !== SCRAPE_REQUEST || typeof m.id !== 'number') return;
    const id = m.id;
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ type: SCRAPE_RESULT, id, text } satisfies ScrapeResult),
      (error: unknown) => worker.isConnected() && worker.send({ type: SCRAPE_RESULT, id, error: error instanceof Error ? error.message : String(error) } satisfies ScrapeResult),
    );
  });
}
