/**
 * The token lifecycle an app would otherwise write itself (hand-written; not generated): keeps the
 * current tokens, gives the access token to every request, and when a request is answered 401
 * refreshes once and sends that request again, once.
 *
 * - Single flight: however many requests fail together, one POST /auth/refresh is made; the others
 *   wait for it and retry with its token. A request that failed with an older token than the
 *   current one retries without refreshing at all.
 * - Retried once: the retry's own 401 is the caller's answer (no loop), and a failed refresh (the
 *   session was revoked, the refresh token reused) clears the tokens and hands `undefined` to
 *   `onTokens`: sign in again.
 * - Every new pair goes to `onTokens` (store it where the app keeps tokens). A refresh token is
 *   single use (rotation), so the stored one must be replaced each time.
 *
 *   const lifecycle = new TokenLifecycle({ basePath, tokens: signedIn, onTokens: save });
 *   const sessions = new SessionsApi(lifecycle.configuration());
 */
import { AuthApi } from './apis/AuthApi.ts';
import { Configuration, ResponseError, type ConfigurationParameters, type Middleware, type ResponseContext } from './runtime.ts';

export interface Tokens {
  accessToken: string;
  /** Absent with the browser cookie transport (the cookie carries it). */
  refreshToken?: string;
}

export interface TokenLifecycleOptions {
  /** Origin of the service, as for Configuration. */
  basePath?: string;
  /** The tokens of a sign-in (AuthResult and TokenPair fit), or undefined when signed out. */
  tokens?: Tokens;
  /** Receives every new pair after a refresh, and undefined when the refresh failed (sign in again). */
  onTokens?: (tokens: Tokens | undefined) => void | Promise<void>;
  /** More configuration for the refresh call and for configuration() (fetchApi, headers, timeoutMs, …). */
  configuration?: Omit<ConfigurationParameters, 'basePath' | 'accessToken'>;
}

export class TokenLifecycle {
  private current: Tokens | undefined;
  private inflight: Promise<Tokens | undefined> | undefined;

  constructor(private readonly options: TokenLifecycleOptions = {}) {
    this.current = options.tokens && { accessToken: options.tokens.accessToken, refreshToken: options.tokens.refreshToken };
  }

  /** The current tokens (undefined when signed out). */
  get tokens(): Tokens | undefined {
    return this.current;
  }

  /** Replaces the tokens, e.g. after a new sign-in (not reported to onTokens). */
  setTokens(tokens: Tokens | undefined): void {
    this.current = tokens && { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
  }

  /** A Configuration whose requests carry the current access token and refresh on 401. */
  configuration(extra: Omit<ConfigurationParameters, 'accessToken'> = {}): Configuration {
    return new Configuration({
      ...this.options.configuration,
      basePath: this.options.basePath,
      ...extra,
      accessToken: () => this.current?.accessToken ?? '',
      middleware: [...(this.options.configuration?.middleware ?? []), ...(extra.middleware ?? []), this.middleware],
    });
  }

  /** The 401 handler, for a Configuration built by hand (with `accessToken: () => lifecycle.tokens?.accessToken ?? ''`). */
  readonly middleware: Middleware = {
    post: async (context: ResponseContext) => {
      if (context.response.status !== 401 || (context.init as Marked)[RETRIED]) return undefined;
      const sent = bearerOf(context.init.headers);
      if (sent === undefined) return undefined; // not a bearer request (sign-in, refresh itself)
      const tokens = sent === this.current?.accessToken ? await this.refresh() : this.current;
      if (!tokens) return undefined;
      const init: Marked = { ...context.init, headers: { ...(context.init.headers as Record<string, string>), Authorization: `Bearer ${tokens.accessToken}` }, [RETRIED]: true };
      return context.fetch(context.url, init);
    },
  };

  /** Refreshes now (single flight): resolves to the new tokens, or undefined when signed out. */
  refresh(): Promise<Tokens | undefined> {
    this.inflight ??= this.refreshOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async refreshOnce(): Promise<Tokens | undefined> {
    const refreshToken = this.current?.refreshToken;
    if (refreshToken === undefined) return this.signOut();
    const auth = new AuthApi(new Configuration({ ...this.options.configuration, basePath: this.options.basePath }));
    try {
      const pair = await auth.authControllerRefresh({ refreshRequest: { refreshToken } });
      this.current = { accessToken: pair.accessToken, refreshToken: pair.refreshToken };
      await this.options.onTokens?.(this.current);
      return this.current;
    } catch (error) {
      // Only the service's "no" ends the session here; a network failure leaves the tokens for the next try.
      if (error instanceof ResponseError && error.status === 401) return this.signOut();
      throw error;
    }
  }

  private async signOut(): Promise<undefined> {
    this.current = undefined;
    await this.options.onTokens?.(undefined);
    return undefined;
  }
}

/**
 * Marks a request already retried once: its answer is final. A symbol property survives the object
 * spreads of `pre` middleware (which copy own enumerable symbols) and never reaches the wire.
 */
const RETRIED = Symbol('sessiond.retried');
type Marked = RequestInit & { [RETRIED]?: true };

function bearerOf(headers: RequestInit['headers']): string | undefined {
  const value = new Headers(headers).get('authorization');
  return value?.startsWith('Bearer ') ? value.slice(7) : undefined;
}
