// test-tier: full (slow: 16 s of SQLite suites, measured on the loaded shared machine)
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { backendNames } from '../helpers/backends.ts';
import { assertProblem, assertSessionsUnchanged, eachRow, sessionSnapshot, startWatchedApp, type Row } from '../helpers/hostile.ts';
import { login, registerUser, type HttpClient, type HttpResult, type SignedIn } from '../helpers/http.ts';

// One user's sessions are invisible and untouchable to another: user B can neither list, count,
// validate as valid, nor revoke user A's sessions. Where B asks about one of A's sessions, the
// answer is exactly the answer about a session that does not exist, so B cannot even learn that
// the id is real. Every probe is followed by a check that A's sessions are as they were.
// Run with the session cache on and off: ownership is checked on both paths (cache and database).

/** An answer with every occurrence of `id` replaced, so answers about different ids compare. */
const normalised = (res: HttpResult, id: string) => ({
  status: res.status,
  contentType: res.headers.get('content-type'),
  body: res.text.replaceAll(id, '<id>'),
});

interface Victim {
  a: SignedIn;
  /** A's active sessions (two devices) and one A revoked. */
  active: SignedIn[];
  revoked: SignedIn;
}

async function setUpVictim(http: HttpClient): Promise<Victim> {
  const a = await registerUser(http);
  const second = await login(http, a);
  const revoked = await login(http, a);
  assert.equal((await http.delete(`/sessions/${revoked.sessionId}`, { token: a.accessToken })).status, 200);
  return { a, active: [a, second], revoked };
}

/** A's sessions as B might target them, each paired with a random id that never existed. */
const targets = (v: Victim) => [
  { name: "A's current session", id: v.a.sessionId },
  { name: "A's other active session", id: v.active[1]!.sessionId },
  { name: "A's revoked session", id: v.revoked.sessionId },
];

interface Probe extends Row {
  /** What B does with a fresh session of its own; asserts B's answer. */
  run: (ctx: { http: HttpClient; b: SignedIn; bIds: Set<string>; victim: Victim }) => Promise<void>;
}

/** Asserts that B's answer about A's session equals its answer about an id that never existed. */
async function assertLikeNonexistent(request: (id: string) => Promise<HttpResult>, id: string) {
  const unknown = crypto.randomUUID();
  const [forA, forNobody] = [await request(id), await request(unknown)];
  assert.deepEqual(normalised(forA, id), normalised(forNobody, unknown));
  return forA;
}

const probes = (v: Victim): Probe[] => [
  {
    name: 'B lists its sessions: only its own',
    run: async ({ http, b, bIds }) => {
      const res = await http.get('/sessions?limit=100', { token: b.accessToken });
      assert.equal(res.status, 200);
      for (const s of res.body.data) assert.ok(bIds.has(s.id), `listed ${s.id}, not one of B's`);
      assert.equal(res.body.meta.total, res.body.data.length);
      for (const own of v.active) assert.ok(!res.text.includes(own.sessionId), "no id of A's appears");
      assert.ok(!res.text.includes(v.a.email));
    },
  },
  {
    name: "B lists with currentSessionId of A's session: only its own, none current",
    run: async ({ http, b, bIds }) => {
      const res = await http.get(`/sessions?limit=100&currentSessionId=${v.a.sessionId}`, { token: b.accessToken });
      assert.equal(res.status, 200);
      for (const s of res.body.data) assert.ok(bIds.has(s.id));
      assert.deepEqual(res.body.data.filter((s: { isCurrent: boolean }) => s.isCurrent), []);
      assert.ok(!res.text.includes(v.a.sessionId));
    },
  },
  {
    name: 'B pages through its list one by one: never an A session',
    run: async ({ http, b, bIds }) => {
      for (let page = 1; page <= bIds.size + 1; page++) {
        const res = await http.get(`/sessions?limit=1&page=${page}`, { token: b.accessToken });
        assert.equal(res.status, 200);
        for (const s of res.body.data) assert.ok(bIds.has(s.id));
      }
    },
  },
  {
    name: 'B counts: only its own',
    run: async ({ http, b }) => {
      const [count, list] = [await http.get('/sessions/count', { token: b.accessToken }), await sessionSnapshot(http, b)];
      assert.equal(count.status, 200);
      assert.equal(count.body.count, list.ids.length);
    },
  },
  ...targets(v).map((target): Probe => ({
    name: `B validates ${target.name}: answered like a nonexistent session`,
    run: async ({ http, b }) => {
      const res = await assertLikeNonexistent((id) => http.get(`/sessions/validate/${id}`, { token: b.accessToken }), target.id);
      assert.deepEqual([res.status, res.body], [200, { sessionId: target.id, valid: false, expiresAt: null }]);
    },
  })),
  ...targets(v).map((target): Probe => ({
    name: `B revokes ${target.name}: 404 like a nonexistent session`,
    run: async ({ http, b }) => {
      const res = await assertLikeNonexistent((id) => http.delete(`/sessions/${id}`, { token: b.accessToken }), target.id);
      assertProblem(res, 404);
    },
  })),
  {
    name: 'B revokes all its sessions: A keeps all of theirs',
    run: async ({ http, b, bIds }) => {
      const res = await http.delete('/sessions', { token: b.accessToken });
      assert.equal(res.status, 200);
      assert.equal(res.body.revokedCount, bIds.size, 'exactly B\'s sessions were revoked');
      bIds.clear();
    },
  },
  {
    name: 'B signs out of all other devices (keepCurrent): A keeps all of theirs',
    run: async ({ http, b, bIds }) => {
      const res = await http.delete('/sessions?keepCurrent=true', { token: b.accessToken });
      assert.equal(res.status, 200);
      assert.equal(res.body.revokedCount, bIds.size - 1);
      bIds.clear();
      bIds.add(b.sessionId);
    },
  },
  {
    name: 'B signs out: A keeps all of theirs',
    run: async ({ http, b, bIds }) => {
      assert.equal((await http.post('/auth/logout', undefined, { token: b.accessToken })).status, 204);
      bIds.delete(b.sessionId);
    },
  },
];

for (const backend of backendNames) {
  for (const cache of [{ label: 'cache on', sessionCacheMaxEntries: 100_000 }, { label: 'cache off', sessionCacheMaxEntries: 0 }]) {
    test(`users cannot see or touch each other's sessions: every probe by B leaves A's as they were (${backend}, ${cache.label})`, async (t) => {
      const env = await startWatchedApp(t, backend, { config: { sessionCacheMaxEntries: cache.sessionCacheMaxEntries } });
      if (!env) return;
      const { http } = env;
      const victim = await setUpVictim(http);
      const B = await registerUser(http);
      const bIds = new Set([B.sessionId]);
      const before = await sessionSnapshot(http, victim.a);
      assert.deepEqual(before.ids, victim.active.map((s) => s.sessionId).sort(), "A's two active sessions, not the revoked one");

      await eachRow(t, env, probes(victim), async (probe) => {
        const b = await login(http, B); // a fresh session of B's for each probe
        bIds.add(b.sessionId);
        await probe.run({ http, b, bIds, victim });
        await assertSessionsUnchanged(http, victim.a, before, probe.name);
      });

      // Afterwards A's sessions are whole: each validates, each access and refresh token still works.
      for (const own of victim.active) {
        const v = await http.get(`/sessions/validate/${own.sessionId}`, { token: victim.a.accessToken });
        assert.equal(v.body.valid, true, `A's ${own.sessionId} is still valid`);
        assert.equal((await http.get('/auth/me', { token: own.accessToken })).status, 200);
        assert.equal((await http.post('/auth/refresh', { refreshToken: own.refreshToken })).status, 200);
      }
      const revoked = await http.get(`/sessions/validate/${victim.revoked.sessionId}`, { token: victim.a.accessToken });
      assert.equal(revoked.body.valid, false, 'and the one A revoked stays revoked');
    });
  }
}
