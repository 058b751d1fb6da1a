// test-tier: full (service processes (WORKERS=2))
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startServiceProcess } from '../helpers/processes.ts';

/**
 * WORKERS=2 (node:cluster, real processes): one scrape of /metrics shows the whole instance, summed
 * over the workers, and counters never go back from one scrape to the next (whichever worker the
 * scrape lands on).
 */

/** A GET on a fresh connection (no keep-alive), so the cluster spreads requests over the workers. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; requestId: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, requestId: String(res.headers['x-request-id'] ?? '') }));
    }).on('error', reject);
  });
}

/** Every counter sample of an exposition: `name{labels}` -> value. */
function counters(text: string): Map<string, number> {
  const counterNames = new Set([...text.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => m[1]!));
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && counterNames.has(m[1]!)) out.set(m[1]! + (m[2] ?? ''), Number(m[3]));
  }
  return out;
}

const healthCount = (text: string) => {
  const m = /^sessiond_http_requests_total\{method="GET",route="\/health",status="200"\} (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
};

// Longer than the 60 s default, for the suite and its tests: a primary forking two workers, started per test.
describe('metrics with WORKERS=2', { timeout: 180_000 }, () => {
  test('one scrape shows both workers; counters monotonic over 20 scrapes; the request total equals the requests sent', async (t) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-metrics-workers-'));
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const token = 'scrape-token-0123456789abcdef';
    const svc = await startServiceProcess(t, { WORKERS: '2', DATA_DIR: dataDir, METRICS_TOKEN: token });
    const auth = { authorization: `Bearer ${token}` };

    let sent = 0;
    const workerPrefixes = new Set<string>();
    let previous = new Map<string, number>();
    const scrapesByWorker = new Set<string>();
    for (let scrape = 0; scrape < 20; scrape++) {
      const burst = await Promise.all(Array.from({ length: 10 }, () => get(`${svc.url}/health`)));
      for (const r of burst) {
        assert.equal(r.status, 200);
        workerPrefixes.add(r.requestId.split('-')[0]!);
      }
      sent += burst.length;
      const res = await get(`${svc.url}/metrics`, auth);
      assert.equal(res.status, 200, res.text);
      scrapesByWorker.add(res.requestId.split('-')[0]!);
      const now = counters(res.text);
      for (const [series, value] of previous) {
        const later = now.get(series);
        assert.ok(later !== undefined && later >= value, `scrape ${scrape + 1}: ${series} went from ${value} to ${later}`);
      }
      previous = now;
    }
    assert.equal(workerPrefixes.size, 2, 'both workers answered requests');
    assert.equal(scrapesByWorker.size, 2, 'scrapes landed on both workers, and still agreed');

    // The last requests' counts are recorded as their responses finish: a moment later, exact.
    let total = -1;
    for (let i = 0; i < 20 && total !== sent; i++) {
      total = healthCount((await get(`${svc.url}/metrics`, auth)).text);
      if (total !== sent) await new Promise((r) => setTimeout(r, 100));
    }
    t.diagnostic(`${sent} requests sent, ${total} counted over both workers`);
    assert.equal(total, sent, 'every request of both workers counted once');

    const text = (await get(`${svc.url}/metrics`, auth)).text;
    assert.equal((text.match(/^# TYPE sessiond_http_requests_total counter$/gm) ?? []).length, 1, 'one series family, not one per worker');
    assert.match(text, /^process_cpu_seconds_total \S+$/m, 'default metrics summed too');
    assert.equal((await get(`${svc.url}/metrics`)).status, 401, 'the token still guards the aggregated scrape');
  });
});
