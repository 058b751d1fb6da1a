/**
 * sessiond exactly as `npm start` runs it (packages/server/src/server.ts, configured by environment
 * variables), with one addition for the benchmark: it stops itself (SIGTERM, graceful) after
 * BENCH_MAX_LIFETIME_SECONDS, so a run that dies half-way leaves no server behind for long.
 */
setTimeout(() => process.kill(process.pid, 'SIGTERM'), Number(process.env.BENCH_MAX_LIFETIME_SECONDS ?? 900) * 1000).unref();
await import('../../packages/server/src/server.ts');
