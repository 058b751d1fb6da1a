import {
  AuthApi,
  Configuration,
  ResponseError,
  SessionEventsApi,
  SessionsApi,
  type FetchAPI,
  type Middleware,
  type RevokeAllResult,
  type SessionList,
  type TokenPair,
  type User,
  withDpop,
} from './sdk.ts';

/**
 * The browser side of a sign-in, on top of @sessiond/sdk.
 *
 * Where the tokens live: the access token only in this object's memory (gone with the tab, never
 * in storage an injected script could read later); the refresh token only in the HttpOnly cookie
 * the service sets when asked with `X-Refresh-Transport: cookie`. The cookie is SameSite=Strict and
 * scoped to /auth/refresh, so it rides along on nothing but a same-origin refresh.
 *
 * Refresh is single-flight: however many calls find the access token about to expire (or get a
 * 401 for it) at once, one POST /auth/refresh runs and all of them wait for it. Several refreshes
 * of one cookie would race each other's rotation; the server forgives that within its grace
 * window, but one request is the polite answer.
 */

export type EndReason =
  /** The session was ended from another device, or expired: found out on a call or a refresh. */
  | 'ended'
  /** This device signed out. */
  | 'signed-out'
  /** The user ended every session, this one included. */
  | 'signed-out-everywhere';

export interface SignedIn {
  user: User;
  sessionId: string;
}

export interface SessionClientOptions {
  /** Origin of the service (the page's own origin in the browser). */
  basePath: string;
  /** A fetch implementation; the global fetch when unset. */
  fetchApi?: FetchAPI;
  /** The client's clock (injected so tests can move it). */
  now?: () => number;
  /** Refresh this long before the access token expires, so no call is sent with a dying token. */
  refreshLeewayMs?: number;
  /**
   * The device key (device-key.ts) that binds this page's sessions (DPoP): every request then
   * carries a proof signed with it. Asked once, at the first request; undefined: unbound sessions.
   */
  deviceKey?: () => Promise<CryptoKeyPair | undefined>;
}

/** Sent on register, login and refresh: asks the service for the HttpOnly cookie transport. */
const COOKIE_TRANSPORT = { 'X-Refresh-Transport': 'cookie' } as const;

export class SessionClient {
  readonly auth: AuthApi;
  readonly sessions: SessionsApi;
  readonly events: SessionEventsApi;

  private accessToken: string | null = null;
  private accessTokenExpiresAtMs = 0;
  private current: SignedIn | null = null;
  private refreshing: Promise<boolean> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly endListeners = new Set<(reason: EndReason, serverReason?: string) => void>();
  /** Sign-outs started on this page and not yet answered: their own end notice wins over the stream's. */
  private endingHere = 0;
  private readonly now: () => number;
  private readonly refreshLeewayMs: number;
  private readonly fetchApi: FetchAPI;

  constructor(options: SessionClientOptions) {
    this.now = options.now ?? Date.now;
    this.refreshLeewayMs = options.refreshLeewayMs ?? 60_000;
    const plainFetch: FetchAPI = options.fetchApi ?? ((url, init) => fetch(url, init));
    const { deviceKey } = options;
    let signing: Promise<FetchAPI> | undefined;
    this.fetchApi = deviceKey
      ? async (url, init) => {
          signing ??= deviceKey().then((keyPair) => (keyPair ? withDpop(keyPair, { fetchApi: plainFetch }) : plainFetch));
          return (await signing)(url, init);
        }
      : plainFetch;
    const configuration = new Configuration({
      basePath: options.basePath,
      fetchApi: this.fetchApi,
      headers: { ...COOKIE_TRANSPORT },
      // The refresh cookie is sent to our own origin only, never to a third party.
      credentials: 'same-origin',
      accessToken: () => this.freshAccessToken(),
      middleware: [this.retryAfterRefresh],
    });
    this.auth = new AuthApi(configuration);
    this.sessions = new SessionsApi(configuration);
    this.events = new SessionEventsApi(configuration);
  }

  /** Who is signed in on this page, or null. */
  get signedIn(): SignedIn | null {
    return this.current;
  }

  /**
   * Called once each time this page's session ends, with why (and, when the service said, its
   * reason: user_revoked, admin, idle_timeout…). Returns an unsubscribe function.
   */
  onEnd(listener: (reason: EndReason, serverReason?: string) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /** On page load: resumes the session of the refresh cookie, if there is a live one. */
  async restore(): Promise<SignedIn | null> {
    if (!(await this.refresh())) return null;
    const me = await this.auth.authControllerMe();
    this.current = { user: me.user, sessionId: me.sessionId };
    return this.current;
  }

  async signIn(email: string, password: string): Promise<SignedIn> {
    const result = await this.auth.authControllerLogin({ loginRequest: { email, password } });
    return this.start(result, result.user);
  }

  async signUp(email: string, password: string, name?: string): Promise<SignedIn> {
    const result = await this.auth.authControllerRegister({ registerRequest: { email, password, ...(name ? { name } : {}) } });
    return this.start(result, result.user);
  }

  /** Asks for a password-reset link; the answer is the same whether or not the email has an account. */
  async requestPasswordReset(email: string): Promise<string> {
    return (await this.auth.authControllerRequestPasswordReset({ passwordResetRequest: { email } })).message;
  }

  /** Sets a new password with the token of a reset link; every session of the account ends. */
  async confirmPasswordReset(token: string, newPassword: string): Promise<void> {
    await this.auth.authControllerConfirmPasswordReset({ passwordResetConfirm: { token, newPassword } });
  }

  /** Signs this device out (the server also clears the refresh cookie). */
  async signOut(): Promise<void> {
    await this.endHere(() => this.auth.authControllerLogout());
    this.end('signed-out');
  }

  /** One page of this account's active sessions, most recently active first. */
  listSessions(page: number, limit: number): Promise<SessionList> {
    return this.sessions.sessionControllerGetActiveSessions({ page, limit });
  }

  /** Ends another device's session. */
  async revokeSession(sessionId: string): Promise<void> {
    await this.sessions.sessionControllerRevokeSession({ sessionId });
  }

  /** Ends every session but this one. */
  revokeOtherSessions(): Promise<RevokeAllResult> {
    return this.sessions.sessionControllerRevokeAllSessions({ keepCurrent: true });
  }

  /** Ends every session of the account, this one included. */
  async revokeAllSessions(): Promise<RevokeAllResult> {
    const result = await this.endHere(() => this.sessions.sessionControllerRevokeAllSessions({ keepCurrent: false }));
    this.end('signed-out-everywhere');
    return result;
  }

  /**
   * Listens to GET /sessions/events while signed in: `onChange` when the account's device list
   * changed (a device signed in or out, a device's refresh token was tried without its key, or the
   * stream (re)connected, when anything may have changed), and the end of this session at once, with the service's reason. Reconnects with
   * back-off (1 s doubling to 30 s, reset once connected) until `signal` aborts or the session ends.
   */
  async watch(options: { onChange: () => void; signal: AbortSignal }): Promise<void> {
    const { signal } = options;
    let backoffMs = 1000;
    while (!signal.aborted && this.current) {
      try {
        for await (const event of this.events.sessionEvents({ signal })) {
          if (event.type === 'ready') {
            backoffMs = 1000;
            options.onChange();
          } else if (event.type === 'session.created') {
            options.onChange();
          } else if (event.type === 'session.ended' && event.current) {
            if (this.endingHere === 0) {
              this.end('ended', event.reason);
              // The ended session's refresh cookie is useless now, and only the service can clear it
              // (HttpOnly): a cookie refresh it refuses does (auth-routes.ts, invalid_refresh_token).
              void this.refreshOnce().catch(() => {});
            }
            return;
          } else {
            options.onChange();
          }
        }
      } catch {
        // Offline, or the service restarting: try again below. A refused token was already
        // refreshed (or the session ended) by the retry middleware.
      }
      if (signal.aborted || !this.current) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoffMs * (0.8 + Math.random() * 0.4));
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      backoffMs = Math.min(backoffMs * 2, 30_000);
    }
  }

  private async endHere<T>(call: () => Promise<T>): Promise<T> {
    this.endingHere++;
    try {
      return await call();
    } finally {
      this.endingHere--;
    }
  }

  /** Forgets the tokens and stops the refresh timer; reports the end when a session was open. */
  end(reason: EndReason, serverReason?: string): void {
    const wasSignedIn = this.current !== null;
    this.accessToken = null;
    this.accessTokenExpiresAtMs = 0;
    this.current = null;
    clearTimeout(this.refreshTimer);
    if (wasSignedIn) for (const listener of this.endListeners) listener(reason, serverReason);
  }

  /**
   * Exchanges the refresh cookie for a new access token. Single-flight: callers that arrive while
   * a refresh is running get its outcome. Resolves false when the session is over (the service
   * said 401); rejects on anything else (offline, rate limited), leaving the session as it was.
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<boolean> {
    try {
      // An empty body: the refresh token travels in the cookie, never through page scripts.
      this.accept(await this.auth.authControllerRefresh({ refreshRequest: {} }));
      return true;
    } catch (error) {
      if (error instanceof ResponseError && error.status === 401) {
        this.end('ended');
        return false;
      }
      throw error;
    }
  }

  private start(tokens: TokenPair, user: User): SignedIn {
    this.accept(tokens);
    this.current = { user, sessionId: tokens.sessionId };
    return this.current;
  }

  private accept(tokens: TokenPair): void {
    this.accessToken = tokens.accessToken;
    // Measured on our own clock from the lifetime the service gave, so a skewed clock does not matter.
    this.accessTokenExpiresAtMs = this.now() + tokens.expiresIn * 1000;
    clearTimeout(this.refreshTimer);
    // Quietly renew before expiry even when the page is idle; a throttled background timer is
    // covered by freshAccessToken(), which checks again before every call.
    const delayMs = Math.max(tokens.expiresIn * 1000 - this.refreshLeewayMs, 1000);
    this.refreshTimer = setTimeout(() => void this.refresh().catch(() => {}), delayMs);
  }

  /** The SDK asks this before every authenticated call. */
  private freshAccessToken = async (): Promise<string> => {
    if (this.accessToken !== null && this.now() >= this.accessTokenExpiresAtMs - this.refreshLeewayMs) await this.refresh();
    return this.accessToken ?? '';
  };

  /**
   * A 401 on an authenticated call means the access token was refused: expired (a sleeping laptop),
   * signed with a key the service no longer trusts, or its session was revoked. One refresh tells
   * which: new tokens -> the call is sent once more; a refused refresh -> the session is over, and
   * end('ended') tells the page.
   */
  private retryAfterRefresh: Middleware = {
    post: async ({ url, init, response }) => {
      const sentToken = bearerOf(init);
      if (response.status !== 401 || sentToken === undefined || this.current === null) return undefined;
      // Another call may have refreshed meanwhile: then retry with its token without refreshing again.
      if (sentToken === this.accessToken && !(await this.refresh())) return undefined;
      if (this.accessToken === null) return undefined;
      const headers = new Headers(init.headers);
      headers.set('Authorization', `Bearer ${this.accessToken}`);
      const retried = await this.fetchApi(url, { ...init, headers });
      // Fresh tokens and still refused: the session is gone after all.
      if (retried.status === 401) this.end('ended');
      return retried;
    },
  };
}

function bearerOf(init: RequestInit): string | undefined {
  const value = new Headers(init.headers).get('authorization');
  return value?.startsWith('Bearer ') ? value.slice('Bearer '.length) : undefined;
}
