import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/app.ts';
import { defaultConfig, type AppConfig } from '../../src/config.ts';
import { generateKeyMaterial } from '../../src/tokens/key-store.ts';
import { openBackend, type BackendName } from './backends.ts';
import { TestClock } from './clock.ts';
import { HttpClient } from './http.ts';

/** Test configuration: the real defaults, with a fast password hash (argon2id still, tiny cost). */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    ...defaultConfig,
    dataDir: '/nonexistent-tests-pass-keys-explicitly',
    logLevel: 'silent',
    passwordHashing: { memoryCostKib: 1024, timeCost: 1, parallelism: 1 },
    // Off by default so suites can sign in many times from 127.0.0.1; the abuse tests turn it on.
    rateLimit: { ...defaultConfig.rateLimit, enabled: false },
    // The sweeper runs when a test calls it, not on a timer.
    purgeIntervalSeconds: 0,
    // Password-reset links go out when a test calls app.sessiond.passwordResets.tick().
    mail: { ...defaultConfig.mail, pollIntervalMs: 0 },
    ...overrides,
  };
}

export interface TestApp {
  app: FastifyInstance;
  /** Base URL of the really listening server, e.g. http://127.0.0.1:41234 */
  url: string;
  http: HttpClient;
  clock: TestClock;
  backend: BackendName;
}

/**
 * Builds the whole app on a fresh database of the given backend and listens on a random loopback
 * port: tests talk real HTTP to it. Returns undefined when the backend is skipped (outside CI).
 */
export async function startApp(
  t: TestContext,
  backend: BackendName,
  options: { config?: Partial<AppConfig>; clock?: TestClock; deps?: Partial<AppDeps>; port?: number } = {},
): Promise<TestApp | undefined> {
  // Cleanup order matters: the app (its feed, webhooks, pools) closes before its database does.
  const opened = await openBackend(t, backend, { deferCleanup: true });
  if (!opened) return undefined;
  const clock = options.clock ?? new TestClock();
  const app = await buildApp(testConfig(options.config), {
    database: opened.handle,
    keys: generateKeyMaterial(clock.now()),
    clock,
    ...options.deps,
  });
  t.after(async () => {
    await app.close();
    await opened.cleanup();
  });
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return { app, url, http: new HttpClient(url), clock, backend };
}

/** A loopback port free right now, for an app whose configuration must name its own URL (PUBLIC_URL). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
