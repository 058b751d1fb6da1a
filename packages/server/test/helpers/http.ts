/** A small fetch wrapper for tests: real HTTP, parsed JSON, headers kept. */
export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Raw body string (sent as is). */
  raw?: string;
  headers?: Record<string, string>;
}

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(this.baseUrl + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }
  post<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('POST', path, { ...options, body });
  }
  delete<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }
}

export interface SignedIn {
  userId: string;
  email: string;
  password: string;
  sessionId: string;
  accessToken: string;
  refreshToken: string;
}

let counter = 0;
/** Registers a fresh user; returns its first session's credentials. */
export async function registerUser(http: HttpClient, options: { email?: string; password?: string; userAgent?: string } = {}): Promise<SignedIn> {
  const email = options.email ?? `user${Date.now()}${counter++}@example.com`;
  const password = options.password ?? 'correct horse battery staple';
  const res = await http.post('/auth/register', { email, password }, { headers: options.userAgent ? { 'user-agent': options.userAgent } : {} });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { userId: res.body.user.id, email, password, sessionId: res.body.sessionId, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

/** Signs in again as an existing user: a new session ("another device"). */
export async function login(http: HttpClient, user: { email: string; password: string }, userAgent?: string): Promise<SignedIn> {
  const res = await http.post('/auth/login', { email: user.email, password: user.password }, { headers: userAgent ? { 'user-agent': userAgent } : {} });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return { userId: res.body.user.id, email: user.email, password: user.password, sessionId: res.body.sessionId, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

/** Asserts the RFC 9457 shape; returns the body. */
export function isProblem(res: HttpResult): boolean {
  return (
    (res.headers.get('content-type') ?? '').startsWith('application/problem+json') &&
    typeof res.body?.type === 'string' &&
    typeof res.body?.title === 'string' &&
    res.body?.status === res.status &&
    typeof res.body?.detail === 'string'
  );
}
