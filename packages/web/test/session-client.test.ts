// test-tier: full (slow: 12 s, measured on the loaded shared machine)
// The page's SessionClient against the real service (SQLite), in Node. A small cookie jar stands in
// for the browser's handling of the refresh cookie; the browser tests check the real one.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { startApp, type TestApp } from '../../server/test/helpers/app.ts';
import { FetchError, ResponseError } from '../src/sdk.ts';
import { SessionClient, type EndReason } from '../src/session-client.ts';

const password = 'correct horse battery staple';

interface Traffic {
  /** "POST /auth/refresh 200", in order. */
  log: string[];
  refreshes(): number;
  /** Fails the next /auth/refresh as a dropped connection would. */
  failNextRefresh(): void;
}

/** fetch with a one-cookie jar for the service's origin, recording every request and its status. */
function browserLikeFetch(): { fetchApi: (url: string, init?: RequestInit) => Promise<Response>; traffic: Traffic } {
  let cookie: string | undefined;
  let failNext = false;
  const log: string[] = [];
  const fetchApi = async (url: string, init: RequestInit = {}) => {
    const { pathname, origin } = new URL(url);
    const headers = new Headers(init.headers);
    if (pathname === '/auth/refresh') {
      if (failNext) {
        failNext = false;
        throw new TypeError('fetch failed');
      }
      if (cookie) headers.set('cookie', cookie);
      // What a browser adds to a same-origin POST.
      headers.set('origin', origin);
      headers.set('sec-fetch-site', 'same-origin');
    }
    const response = await fetch(url, { ...init, headers });
    log.push(`${init.method ?? 'GET'} ${pathname} ${response.status}`);
    const set = response.headers.getSetCookie().find((c) => c.startsWith('sessiond_refresh='));
    if (set) cookie = /max-age=0|expires=thu, 01 jan 1970/i.test(set) ? undefined : set.split(';')[0];
    return response;
  };
  return {
    fetchApi,
    traffic: {
      log,
      refreshes: () => log.filter((line) => line.startsWith('POST /auth/refresh')).length,
      failNextRefresh: () => {
        failNext = true;
      },
    },
  };
}

async function setUp(t: TestContext) {
  const env = await startApp(t, 'sqlite');
  assert.ok(env);
  const { fetchApi, traffic } = browserLikeFetch();
  let clientNowMs = Date.now();
  const client = new SessionClient({ basePath: env.url, fetchApi, now: () => clientNowMs });
  t.after(() => client.end('signed-out')); // stops its refresh timer
  const ends: EndReason[] = [];
  client.onEnd((reason) => ends.push(reason));
  return { env, client, traffic, ends, advanceClientClock: (ms: number) => (clientNowMs += ms) };
}

async function signInFromElsewhere(env: TestApp, email: string) {
  const res = await env.http.post('/auth/login', { email, password });
  assert.equal(res.status, 200);
  return res.body as { accessToken: string; sessionId: string };
}

describe('SessionClient', () => {
  test('sign-up keeps the refresh token out of the page: the cookie carries it, the body does not', async (t) => {
    const { client, traffic } = await setUp(t);
    const raw = await client.auth.authControllerRegisterRaw({ registerRequest: { email: 'ada@example.com', password } });
    const body = await raw.value();
    assert.equal(body.refreshToken, undefined, 'the transport header was sent');
    assert.match(raw.raw.headers.get('set-cookie') ?? '', /sessiond_refresh=.*HttpOnly/i);
    assert.deepEqual(traffic.log, ['POST /auth/register 201']);
  });

  test('single flight: five calls refused for an expired token cause one refresh, then all succeed', async (t) => {
    const { env, client, traffic } = await setUp(t);
    await client.signUp('ada@example.com', password, 'Ada');
    // The service's clock passes the token's expiry; the page's clock does not know.
    env.clock.advanceSeconds(16 * 60);
    const results = await Promise.all(Array.from({ length: 5 }, () => client.listSessions(1, 10)));
    for (const result of results) assert.equal(result.meta.total, 1);
    assert.equal(traffic.refreshes(), 1);
    assert.equal(traffic.log.filter((line) => line === 'GET /sessions 401').length, 5);
    assert.equal(traffic.log.filter((line) => line === 'GET /sessions 200').length, 5);
  });

  test('refreshes quietly before expiry: calls near the end of the token lifetime wait for one refresh, none is refused', async (t) => {
    const { client, traffic, advanceClientClock } = await setUp(t);
    await client.signUp('ada@example.com', password);
    advanceClientClock(14.5 * 60_000); // 30 s before expiry, inside the 60 s leeway
    await Promise.all([client.listSessions(1, 10), client.listSessions(2, 10), client.auth.authControllerMe()]);
    assert.equal(traffic.refreshes(), 1);
    assert.equal(traffic.log[1], 'POST /auth/refresh 200', 'the refresh goes first');
    assert.ok(!traffic.log.some((line) => line.endsWith(' 401')), traffic.log.join('\n'));
  });

  test('revoked from another device: the next call ends the session, once, with reason "ended"', async (t) => {
    const { env, client, ends } = await setUp(t);
    const me = await client.signUp('ada@example.com', password);
    const other = await signInFromElsewhere(env, 'ada@example.com');
    const revoked = await env.http.delete(`/sessions/${me.sessionId}`, { token: other.accessToken });
    assert.equal(revoked.status, 200);

    await assert.rejects(client.listSessions(1, 10), (error) => error instanceof ResponseError && error.status === 401);
    assert.deepEqual(ends, ['ended']);
    assert.equal(client.signedIn, null);
    // Later calls do not report the end again.
    await assert.rejects(client.listSessions(1, 10));
    assert.deepEqual(ends, ['ended']);
  });

  test('restore: a new page resumes from the cookie; without a live cookie it quietly finds no session', async (t) => {
    const env = await startApp(t, 'sqlite');
    assert.ok(env);
    const { fetchApi } = browserLikeFetch();
    const pages = [new SessionClient({ basePath: env.url, fetchApi }), new SessionClient({ basePath: env.url, fetchApi })];
    t.after(() => pages.forEach((page) => page.end('signed-out')));
    const ends: EndReason[] = [];
    pages[1]!.onEnd((reason) => ends.push(reason));

    assert.equal(await pages[1]!.restore(), null, 'no cookie yet');
    const signedIn = await pages[0]!.signUp('ada@example.com', password, 'Ada');
    const restored = await pages[1]!.restore();
    assert.equal(restored?.sessionId, signedIn.sessionId);
    assert.equal(restored?.user.email, 'ada@example.com');

    await pages[1]!.signOut();
    assert.deepEqual(ends, ['signed-out']);
    assert.equal(await pages[0]!.restore(), null, 'the cookie went with the session');
  });

  test('sign out of other devices keeps this one; sign out everywhere ends it too', async (t) => {
    const { env, client, ends } = await setUp(t);
    await client.signUp('ada@example.com', password);
    await signInFromElsewhere(env, 'ada@example.com');
    await signInFromElsewhere(env, 'ada@example.com');
    assert.deepEqual(await client.revokeOtherSessions(), { revokedCount: 2 });
    assert.equal((await client.listSessions(1, 10)).meta.total, 1);
    assert.deepEqual(ends, []);

    await signInFromElsewhere(env, 'ada@example.com');
    assert.deepEqual(await client.revokeAllSessions(), { revokedCount: 2 });
    assert.deepEqual(ends, ['signed-out-everywhere']);
    assert.equal(client.signedIn, null);
  });

  test('a refresh that fails for another reason (offline) keeps the session for the next try', async (t) => {
    const { client, traffic, ends, advanceClientClock } = await setUp(t);
    await client.signUp('ada@example.com', password);
    advanceClientClock(15 * 60_000);
    traffic.failNextRefresh();
    await assert.rejects(client.listSessions(1, 10), (error) => error instanceof FetchError && /fetch failed/.test(error.cause.message));
    assert.deepEqual(ends, []);
    assert.ok(client.signedIn);
    assert.equal((await client.listSessions(1, 10)).meta.total, 1);
  });
});
