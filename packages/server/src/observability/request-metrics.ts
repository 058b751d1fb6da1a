import type { Registry } from 'prom-client';

/** One (method, route, status) series: a request count and a latency histogram. */
interface Series {
  labels: { method: string; route: string; status: string };
  /** Per-bucket counts (not cumulative); the last slot is +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * `sessiond_http_requests_total` and `sessiond_http_request_duration_seconds`, recorded in plain
 * numbers and rendered in prom-client's metric format when scraped.
 *
 * Why not prom-client's Counter and Histogram: they hash the label set on every call, even through
 * `labels()` children (about 0.7 µs a request with both, a tenth of a session check's own cost on the
 * fast path, docs/BENCHMARKS.md). Here a request costs one Map lookup and a few additions. The
 * registry accepts any metric whose `get()` returns prom-client's shape, which is all this renders;
 * test/http/observability.test.ts scrapes the result.
 */
export class RequestMetrics {
  private readonly series = new Map<string, Series>();

  constructor(private readonly upperBounds: readonly number[]) {}

  record(method: string, route: string, statusCode: number, seconds: number): void {
    const key = method + ' ' + route + ' ' + statusCode;
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { method, route, status: String(statusCode) }, buckets: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    let i = 0;
    while (i < this.upperBounds.length && seconds > this.upperBounds[i]!) i++;
    s.buckets[i]!++;
    s.sum += seconds;
    s.count++;
  }

  /** Registers the two metrics on `registry` (names and help as before; the format is prom-client's). */
  register(registry: Registry): void {
    const counter = {
      name: 'sessiond_http_requests_total',
      help: 'HTTP requests by route and status',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ name: counter.name, help: counter.help, type: counter.type, aggregator: counter.aggregator, values: [...this.series.values()].map((s) => ({ value: s.count, labels: s.labels })) }),
      reset: () => this.series.clear(),
    };
    const histogram = {
      name: 'sessiond_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ name: histogram.name, help: histogram.help, type: histogram.type, aggregator: histogram.aggregator, values: this.histogramValues() }),
      reset: () => this.series.clear(),
    };
    registry.registerMetric(counter as unknown as Parameters<Registry['registerMetric']>[0]);
    registry.registerMetric(histogram as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  private histogramValues(): MetricValue[] {
    const values: MetricValue[] = [];
    const name = 'sessiond_http_request_duration_seconds';
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.upperBounds.forEach((bound, i) => {
        cumulative += s.buckets[i]!;
        values.push({ value: cumulative, labels: { ...s.labels, le: bound }, metricName: `${name}_bucket` });
      });
      values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: `${name}_bucket` });
      values.push({ value: s.sum, labels: s.labels, metricName: `${name}_sum` });
      values.push({ value: s.count, labels: s.labels, metricName: `${name}_count` });
    }
    return values;
  }
}
