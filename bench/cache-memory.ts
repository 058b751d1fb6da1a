/**
 * Memory per cached session: what one signed-in device costs a sessiond process once its checks
 * are answered from memory. Run by bench/run.ts in a child process (`--expose-gc`), or alone:
 *
 *   node --expose-gc --import tsx bench/cache-memory.ts [sessions]
 *
 * It fills the two per-session caches a check reads with the real classes (tokens/access-tokens.ts:
 * the verified-token cache, filled by verifying real tokens; sessions/session-cache.ts: the session
 * state), and reports the heap growth per session after a full GC (about ±10 bytes: the heap moves
 * a little between two GCs). The `/auth/me` user cache is per
 * user, not per session, and is left out (it holds the user's public fields only).
 */
import crypto from 'node:crypto';
import { createAccessTokens } from '../packages/server/src/tokens/access-tokens.ts';
import { generateKeyMaterial } from '../packages/server/src/tokens/key-store.ts';
import { SessionCache } from '../packages/server/src/sessions/session-cache.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

export interface CacheMemory {
  sessions: number;
  /**
   * Both caches' entries (the verified token's entry and claims, the session state), measured
   * together: split between the two, the heap readings move between the steps (V8 settles some
   * allocations late), while their sum is stable.
   */
  entriesBytes: number;
  /** Length of a token (its string adds about this many bytes). */
  tokenChars: number;
  /** All of it: the entries plus the token string (one byte a character and a 16-byte header). */
  totalBytes: number;
}

export async function measureCacheMemory(count: number): Promise<CacheMemory> {
  const clock = { now: () => Date.now() };
  const tokens = createAccessTokens(generateKeyMaterial(clock.now()), { issuer: 'https://sessiond.example', audience: 'sessiond', ttlSeconds: 900, verifiedCacheMaxEntries: count * 2 }, clock);
  const cache = new SessionCache({ maxEntries: count * 2, maxStalenessMs: 60_000 });
  const heap = () => {
    gc!();
    gc!();
    return process.memoryUsage().heapUsed;
  };
  const issued: string[] = [];
  for (let i = 0; i < count; i++) issued.push((await tokens.issue(crypto.randomUUID(), crypto.randomUUID(), { authMethod: 'password' })).token);
  // The token strings exist before (held here, as by a request's header); the verified-token cache
  // then adds its entry and claims. In a server it is also the only holder of the string (its key),
  // so the string's own size (tokenChars, one byte each plus a small header) is added to the total.
  // A first round on other tokens, so that what the verifier allocates once (key imports, jose's
  // own caches) is not counted per token.
  for (let i = 0; i < 200; i++) await tokens.verify((await tokens.issue(crypto.randomUUID(), crypto.randomUUID(), { authMethod: 'password' })).token);
  const warm = tokens.cachedTokenCount();
  const before = heap();
  for (const token of issued) await tokens.verify(token);
  const now = clock.now();
  for (let i = 0; i < count; i++) cache.fill({ id: crypto.randomUUID(), userId: crypto.randomUUID(), expiresAtMs: now + 86_400_000, lastActiveAtMs: now, revoked: false });
  const afterSessions = heap();
  if (tokens.cachedTokenCount() !== count + warm) throw new Error(`verified-token cache holds ${tokens.cachedTokenCount()} of ${count}`);
  const entriesBytes = (afterSessions - before) / count;
  const tokenChars = issued[0]!.length;
  return { sessions: count, entriesBytes, tokenChars, totalBytes: entriesBytes + tokenChars + 16 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measureCacheMemory(Number(process.argv[2] ?? 2_000));
  console.log(JSON.stringify(result));
}
