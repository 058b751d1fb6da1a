import crypto from 'node:crypto';
import { pool } from './processes.ts';

/**
 * What a scenario needs before it starts: signed-in users, over the real HTTP API of the server
 * under test (so sign-in costs are paid at setup, with the server's real password hashing).
 */

export const BENCH_PASSWORD = 'bench password 0123456789';

/** Three devices of one user, so the session list shows what a real one would. */
export const DEVICES = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
];

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${text.slice(0, 300)}`);
  return { res, json: JSON.parse(text) as Record<string, any> };
}

export async function expectOk(url: string, headers: Record<string, string>, check: (json: any) => boolean, label: string) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  if (!res.ok) throw new Error(`${label}: GET ${url} answered ${res.status} ${text.slice(0, 300)}`);
  if (!check(JSON.parse(text))) throw new Error(`${label}: unexpected answer ${text.slice(0, 300)}`);
}

export interface SessiondSession {
  email: string;
  userId: string;
  sessionId: string;
  accessToken: string;
}

export interface SessiondFixtures {
  /** One session of each of N users (one per load connection). */
  sessions: SessiondSession[];
  /** Three sessions (devices) of one user. */
  listUser: SessiondSession[];
  /** `listUsers` users with three sessions (devices) each, one session per user: the session-list scenario. */
  listUsers: SessiondSession[];
}

/**
 * Registers `users` users, one user with three sessions, and `listUsers` more users with three
 * sessions each (so a list load reads many users' rows, not one user's hot rows). `prefix` keeps
 * emails unique per run.
 */
export async function sessiondFixtures(baseUrl: string, users: number, prefix = crypto.randomBytes(3).toString('hex'), listUsers = 0): Promise<SessiondFixtures> {
  const register = async (email: string, userAgent: string) => {
    const { json } = await postJson(`${baseUrl}/auth/register`, { email, password: BENCH_PASSWORD, name: 'Bench' }, { 'user-agent': userAgent });
    return { email, userId: json.user.id, sessionId: json.sessionId, accessToken: json.accessToken } as SessiondSession;
  };
  const sessions = await pool(Array.from({ length: users }, (_, i) => `bench-${prefix}-${i}@example.com`), 4, (email, i) => register(email, DEVICES[i % DEVICES.length]!));
  const listUser = [await register(`bench-${prefix}-list@example.com`, DEVICES[0]!)];
  for (const device of DEVICES.slice(1)) listUser.push(await sessiondLogin(baseUrl, listUser[0]!.email, device));
  const many = await pool(Array.from({ length: listUsers }, (_, i) => `bench-${prefix}-list${i}@example.com`), 4, async (email) => {
    const first = await register(email, DEVICES[0]!);
    for (const device of DEVICES.slice(1)) await sessiondLogin(baseUrl, email, device);
    return first;
  });
  return { sessions, listUser, listUsers: many };
}

export async function sessiondLogin(baseUrl: string, email: string, userAgent = DEVICES[0]!, password = BENCH_PASSWORD): Promise<SessiondSession> {
  const { json } = await postJson(`${baseUrl}/auth/login`, { email, password }, { 'user-agent': userAgent });
  return { email, userId: json.user.id, sessionId: json.sessionId, accessToken: json.accessToken };
}

export interface BetterAuthFixtures {
  /** Session cookie of each of N users. */
  cookies: string[];
  /** Three session cookies of one user. */
  listUser: string[];
}

/** The session cookie (name=value) a Better Auth answer sets. */
function sessionCookie(res: Response): string {
  const cookie = res.headers.getSetCookie().find((c) => c.includes('session_token='));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(res.headers.getSetCookie())}`);
  return cookie.split(';')[0]!;
}

export async function betterAuthFixtures(baseUrl: string, users: number, prefix = crypto.randomBytes(3).toString('hex')): Promise<BetterAuthFixtures> {
  const headers = (userAgent: string) => ({ origin: baseUrl, 'user-agent': userAgent });
  const signUp = async (email: string, userAgent: string) =>
    sessionCookie((await postJson(`${baseUrl}/api/auth/sign-up/email`, { email, password: BENCH_PASSWORD, name: 'Bench' }, headers(userAgent))).res);
  const signIn = async (email: string, userAgent: string) =>
    sessionCookie((await postJson(`${baseUrl}/api/auth/sign-in/email`, { email, password: BENCH_PASSWORD }, headers(userAgent))).res);
  const cookies = await pool(Array.from({ length: users }, (_, i) => `bench-${prefix}-${i}@example.com`), 4, (email, i) => signUp(email, DEVICES[i % DEVICES.length]!));
  const listEmail = `bench-${prefix}-list@example.com`;
  const listUser = [await signUp(listEmail, DEVICES[0]!)];
  for (const device of DEVICES.slice(1)) listUser.push(await signIn(listEmail, device));
  return { cookies, listUser };
}
