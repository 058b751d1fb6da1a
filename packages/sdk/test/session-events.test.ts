// SessionEventsApi.sessionEvents(): GET /sessions/events as an async iterator, against the real
// service: ready, another device signing in and out, this session's own end (then the iteration
// ends), an abort, and a refused token as a ResponseError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startApp } from '../../server/test/helpers/app.ts';
import { TestClock } from '../../server/test/helpers/clock.ts';
import { login, registerUser } from '../../server/test/helpers/http.ts';
import { Configuration, ResponseError, SessionEventsApi, type SessionStreamEvent } from '../src/index.ts';

test('sessionEvents(): ready, session.created, session.ended of another device, then of this one', async (t) => {
  const env = await startApp(t, 'sqlite', { clock: new TestClock(Date.now()) });
  assert.ok(env);
  const me = await registerUser(env.http);
  const api = new SessionEventsApi(new Configuration({ basePath: env.url, accessToken: me.accessToken }));
  const events: SessionStreamEvent[] = [];
  const iterator = api.sessionEvents()[Symbol.asyncIterator]();
  const next = async () => {
    const r = await iterator.next();
    if (!r.done) events.push(r.value);
    return r;
  };
  assert.deepEqual((await next()).value, { type: 'ready', sessionId: me.sessionId });
  const phone = await login(env.http, me);
  assert.deepEqual((await next()).value, { type: 'session.created', sessionId: phone.sessionId, createdAt: new Date(env.clock.now()).toISOString() });
  await env.http.post('/auth/logout', undefined, { token: phone.accessToken });
  assert.deepEqual((await next()).value, { type: 'session.ended', sessionId: phone.sessionId, reason: 'user_logout', endedAt: new Date(env.clock.now()).toISOString(), current: false });
  const other = await login(env.http, me);
  assert.equal(((await next()).value as SessionStreamEvent).type, 'session.created');
  await env.http.delete(`/sessions/${me.sessionId}`, { token: other.accessToken });
  const ended = (await next()).value as Extract<SessionStreamEvent, { type: 'session.ended' }>;
  assert.equal(ended.current, true);
  assert.equal(ended.reason, 'user_revoked');
  assert.equal((await next()).done, true, 'the stream closes after the own session ended');

  // The ended session's token opens no stream: 401 problem details as a ResponseError.
  await assert.rejects(
    async () => {
      for await (const _event of api.sessionEvents()) assert.fail('no event for an ended session');
    },
    (e: unknown) => e instanceof ResponseError && e.status === 401,
  );

  // An abort ends the iteration.
  const live = new SessionEventsApi(new Configuration({ basePath: env.url, accessToken: other.accessToken }));
  const controller = new AbortController();
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const e of live.sessionEvents({ signal: controller.signal })) {
      seen.push(e.type);
      controller.abort();
    }
  });
  assert.deepEqual(seen, ['ready']);
});

test('the event-stream parser: line endings, chunk boundaries, multi-line data, comments, ids', async () => {
  const { createEventStreamParser } = await import('../src/session-events.ts');
  const got: Array<{ event: string; data: string; id?: string }> = [];
  const parser = createEventStreamParser((m) => got.push(m));
  const text = ': heartbeat\r\nretry: 1000\r\n\r\nid: 7~1\r\nevent: ready\r\ndata: {"a":1}\r\n\r\nevent: x\ndata: one\ndata:two\n\ndata: plain\r\rid\n\n: only a comment\n\n';
  // Fed one character at a time: no boundary may split an event wrongly (a CR before its LF included).
  for (const ch of text) parser.feed(ch);
  assert.deepEqual(got, [
    { event: 'ready', data: '{"a":1}', id: '7~1' },
    { event: 'x', data: 'one\ntwo', id: '7~1' },
    { event: 'message', data: 'plain', id: '7~1' },
  ]);
});
