// test-tier: full (PostgreSQL)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { redactPaths } from '../../src/app.ts';
import { adminPostgresUrl } from '../helpers/backends.ts';
import { startApp } from '../helpers/app.ts';
import { captureLogs } from '../helpers/logs.ts';
import { login, registerUser } from '../helpers/http.ts';
import { openSse } from '../helpers/sse.ts';

/** The value of one sample line of a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries((m[3] ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]).map(([k, v]) => [k, v.replace(/^"|"$/g, '')]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

describe('observability', () => {
  test('GET /metrics: requests by route pattern and status, sign-ins, refreshes, revocations by reason, reuse, cache hits, active sessions', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const { http, clock } = env;
    const a = await registerUser(http);
    const b = await login(http, a);
    await http.post('/auth/login', { email: a.email, password: 'wrong password!' });
    // before the clock moves: the cache is trusted for the feed's bound on the test clock
    for (let i = 0; i < 3; i++) await http.get(`/sessions/validate/${a.sessionId}`, { token: a.accessToken });
    const r = await http.post('/auth/refresh', { refreshToken: b.refreshToken });
    clock.advanceSeconds(30);
    await http.post('/auth/refresh', { refreshToken: b.refreshToken }); // reuse: revokes b
    await http.get(`/sessions/validate/${a.sessionId}`, { token: r.body.accessToken }); // refused: revoked
    const c = await login(http, a);
    await http.delete(`/sessions/${c.sessionId}`, { token: a.accessToken });

    const res = await http.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = res.text;
    assert.equal(sample(text, 'sessiond_http_requests_total', { method: 'GET', route: '/sessions/validate/:sessionId', status: '200' }), 3);
    assert.equal(sample(text, 'sessiond_http_requests_total', { method: 'GET', route: '/sessions/validate/:sessionId', status: '401' }), 1);
    assert.ok((sample(text, 'sessiond_http_request_duration_seconds_count', { route: '/auth/login', status: '200' }) ?? 0) >= 2);
    // The latency histogram in Prometheus form: cumulative buckets ending in +Inf = count, and a sum.
    assert.match(text, /^# TYPE sessiond_http_request_duration_seconds histogram$/m);
    assert.match(text, /^# TYPE sessiond_http_requests_total counter$/m);
    const check = { method: 'GET', route: '/sessions/validate/:sessionId', status: '200' };
    const buckets = ['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'].map((le) => sample(text, 'sessiond_http_request_duration_seconds_bucket', { ...check, le }));
    assert.ok(buckets.every((v) => v !== undefined), 'every bucket is exported');
    assert.ok(buckets.every((v, i) => i === 0 || v >= buckets[i - 1]!), 'buckets are cumulative');
    assert.equal(buckets.at(-1), 3);
    assert.equal(sample(text, 'sessiond_http_request_duration_seconds_count', check), 3);
    const sum = sample(text, 'sessiond_http_request_duration_seconds_sum', check) ?? -1;
    assert.ok(sum > 0 && sum < 3, `the sum of three latencies in seconds: ${sum}`);
    assert.equal(sample(text, 'sessiond_sign_ins_total', { result: 'success' }), 2);
    assert.equal(sample(text, 'sessiond_sign_ins_total', { result: 'failure' }), 1);
    assert.equal(sample(text, 'sessiond_sign_ups_total'), 1);
    assert.equal(sample(text, 'sessiond_refreshes_total', { result: 'success' }), 1);
    assert.equal(sample(text, 'sessiond_refreshes_total', { result: 'failure' }), 1);
    assert.equal(sample(text, 'sessiond_revocations_total', { reason: 'refresh_token_reused' }), 1);
    assert.equal(sample(text, 'sessiond_revocations_total', { reason: 'user_revoked' }), 1);
    assert.equal(sample(text, 'sessiond_refresh_token_reuse_detections_total'), 1);
    assert.ok((sample(text, 'sessiond_session_cache_lookups_total', { result: 'hit' }) ?? 0) >= 3);
    assert.equal(sample(text, 'sessiond_active_sessions'), 1);
    assert.ok(!text.includes(a.sessionId), 'no ids in labels');
    // process metrics (the resident-memory gauge reads /proc asynchronously and may be absent on a first scrape)
    assert.ok((sample(text, 'nodejs_heap_size_used_bytes') ?? 0) > 0);
  });

  test('Prometheus naming: standard process and Node.js names, counters end in _total, units in names', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const text = (await env.http.get('/metrics')).text;
    // prom-client's default metrics under their standard names, as stock Node.js dashboards expect
    for (const name of ['process_cpu_seconds_total', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_version_info']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.doesNotMatch(text, /^# TYPE sessiond_(process|nodejs)_/m, 'no renamed default metrics');
    assert.match(text, /^# TYPE sessiond_webhook_delivery_failures_total counter$/m);
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    assert.ok(types.length > 20);
    for (const { name, type } of types) {
      if (type === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`);
      // (prom-client's standard nodejs_active_*_total are gauges; those names are what dashboards know)
      else if (name.startsWith('sessiond_')) assert.doesNotMatch(name, /_total$/, `${type} ${name} does not pretend to be a counter`);
      if (name.startsWith('sessiond_')) assert.doesNotMatch(name, /_(ms|milliseconds|kb|mb)(_|$)/, `${name}: base units (seconds, bytes)`);
    }
  });

  test('METRICS_TOKEN: /metrics answers 401 problem details without the bearer token, 200 with it', async (t) => {
    const token = 'metrics-token-0123456789';
    const env = await startApp(t, 'sqlite', { config: { metricsToken: token } });
    assert.ok(env);
    const { http } = env;
    const wrong: (string | undefined)[] = [undefined, 'Bearer wrong-token-0123456789', `Basic ${token}`, `Bearer ${token}x`, 'Bearer '];
    for (const authorization of wrong) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const res = await http.get('/metrics', { headers });
      assert.equal(res.status, 401, String(authorization));
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(res.body.type, 'urn:sessiond:problem:unauthenticated');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.ok(!res.text.includes('sessiond_http_requests_total'));
    }
    const ok = await http.get('/metrics', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^# TYPE sessiond_http_requests_total counter$/m);
    assert.equal((await http.get('/health')).status, 200, 'only /metrics is protected');
  });

  test('request ids: on every response and every log line of the request; a sane caller id is kept', async (t) => {
    const logs = captureLogs();
    const env = await startApp(t, 'sqlite', { deps: { logger: { level: 'info', stream: logs.stream, redact: redactPaths } } });
    assert.ok(env);
    const mine = await env.http.get('/health', { headers: { 'x-request-id': 'trace-abc.123' } });
    assert.equal(mine.headers.get('x-request-id'), 'trace-abc.123');
    const hostile = await env.http.get('/health', { headers: { 'x-request-id': 'a"b\nc'.replace('\n', ' ') + 'x'.repeat(100) } });
    const made = hostile.headers.get('x-request-id') ?? '';
    assert.match(made, /^[0-9a-f]{12}-[0-9a-z]+$/, 'an unsafe id is replaced by <process prefix>-<counter>');
    const next = (await env.http.get('/health')).headers.get('x-request-id') ?? '';
    assert.equal(next.split('-')[0], made.split('-')[0], 'one prefix per process');
    assert.notEqual(next, made, 'a new id per request');
    const requestLines = logs.lines().filter((l) => l.req || l.res);
    assert.equal(requestLines.length, 3, 'one line per request');
    assert.ok(requestLines.every((l) => typeof l.reqId === 'string'));
    assert.ok(requestLines.some((l) => l.reqId === 'trace-abc.123'));
  });

  test('event streams get their access-log line too, when they close (hijacked replies skip onResponse)', async (t) => {
    const logs = captureLogs();
    const env = await startApp(t, 'sqlite', { deps: { logger: { level: 'info', stream: logs.stream, redact: redactPaths } } });
    assert.ok(env);
    const user = await registerUser(env.http);
    const stream = await openSse(`${env.url}/sessions/events`, { authorization: `Bearer ${user.accessToken}`, 'x-request-id': 'stream-1' });
    assert.equal(stream.status, 200);
    await stream.next('ready');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(logs.lines().filter((l) => l.reqId === 'stream-1').length, 0, 'no line while it is open');
    stream.close();
    const deadline = Date.now() + 5000;
    let line: Record<string, any> | undefined;
    while (!(line = logs.lines().find((l) => l.reqId === 'stream-1')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(line, 'one line once the client went away');
    assert.deepEqual([line.req.method, line.req.url, line.res.statusCode], ['GET', '/sessions/events', 200]);
    assert.ok(line.responseTime >= 50, `its response time is how long it was open (${line.responseTime} ms)`);
    assert.ok(!JSON.stringify(line).includes(user.accessToken));
    assert.equal(logs.lines().filter((l) => l.reqId === 'stream-1').length, 1, 'exactly one');
  });

  test('GET /ready: 200 with every check ok; 503 naming the database when it is gone', async (t) => {
    const env = await startApp(t, 'postgres');
    if (!env) return;
    const ok = await env.http.get('/ready');
    assert.deepEqual([ok.status, ok.body], [200, { status: 'ready', checks: { database: 'ok', migrations: 'ok' } }]);
    // Fault: the database disappears under the running service.
    const dbName = (await env.app.sessiond.database.db.selectNoFrom((eb) => eb.fn<string>('current_database', []).as('name')).executeTakeFirstOrThrow()).name;
    const admin = new pg.Client({ connectionString: adminPostgresUrl });
    await admin.connect();
    await admin.query(`drop database ${dbName} with (force)`);
    await admin.end();
    const started = performance.now();
    const down = await env.http.get('/ready');
    assert.equal(down.status, 503);
    assert.equal(down.body.status, 'not_ready');
    assert.notEqual(down.body.checks.database, 'ok');
    assert.ok(performance.now() - started < 5000, 'answers fast');
    const failing = await env.http.get('/sessions/count', { token: 'x' });
    assert.equal(failing.status, 401, 'auth still comes first');
  });
});
