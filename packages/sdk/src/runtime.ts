/**
 * The hand-written half of @sessiond/sdk: configuration, middleware, the request pipeline and the
 * error types, in the shape of openapi-generator's typescript-fetch runtime so code written for a
 * typescript-fetch client keeps working. The generated half (apis/, models/) only describes the
 * operations; everything that does work lives here, once.
 *
 * Runs in Node 20 and in browsers: it only uses the global fetch, Request/Response and URL APIs.
 */
import type { Problem } from './models/Problem.ts';

/**
 * Where the service is reached when no basePath is configured: typescript-fetch's default. The
 * OpenAPI document's `servers` entry is a deployment's own URL, so an app always passes basePath.
 */
export const BASE_PATH = 'http://localhost'.replace(/\/+$/, '');

/** What the SDK needs of fetch (the global fetch, or any function of this shape). */
export type FetchAPI = (url: string, init?: RequestInit) => Promise<Response>;
export type HTTPMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'HEAD';
export type HTTPHeaders = { [key: string]: string };
export type HTTPQueryValue =
  | string
  | number
  | boolean
  | null
  | Date
  | Array<string | number | boolean | null | Date>
  | Set<string | number | boolean | null | Date>
  | HTTPQuery;
export type HTTPQuery = { [key: string]: HTTPQueryValue };
export type Json = any;
export type HTTPBody = Json | FormData | URLSearchParams;
export type ModelPropertyNaming = 'camelCase' | 'snake_case' | 'PascalCase' | 'original';
export type HTTPRequestInit = {
  headers?: HTTPHeaders;
  method: HTTPMethod;
  credentials?: RequestInit['credentials'];
  body?: HTTPBody;
};

/** Bearer token source: a fixed token, or a function asked before every request (for refresh-as-you-go). */
export type AccessTokenProvider = (name?: string, scopes?: string[]) => string | Promise<string>;

export interface ConfigurationParameters {
  /** Origin (and optional path prefix) of the service, e.g. https://sessions.example.com. Default http://localhost. */
  basePath?: string;
  /** A fetch implementation; the global fetch when unset. */
  fetchApi?: FetchAPI;
  /** Hooks run around every request, in order. */
  middleware?: Middleware[];
  /** Turns query parameters into a query string; `querystring` when unset. */
  queryParamsStringify?: (params: HTTPQuery) => string;
  /** Bearer token for operations secured by JWT-auth: the accessToken of /auth/login, /auth/register or /auth/refresh. */
  accessToken?: string | Promise<string> | AccessTokenProvider;
  /** API key for operations secured by an apiKey scheme (the Admin API's X-Admin-Key); a function receives the header name. */
  apiKey?: string | Promise<string> | ((name: string) => string | Promise<string>);
  /** Headers sent with every request. */
  headers?: HTTPHeaders;
  /** fetch's credentials mode (browsers). */
  credentials?: RequestInit['credentials'];
  /** HTTP basic credentials (typescript-fetch's; no sessiond operation uses them). */
  username?: string;
  password?: string;
  /** Abandons every request (and its retries) after this many milliseconds with a FetchError. Per call: `{ timeoutMs }`. */
  timeoutMs?: number;
  /** Aborts every request made with this configuration (e.g. when the app shuts down). Per call: `{ signal }`. */
  signal?: AbortSignal;
  /**
   * Retries of idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE) answered 503: at most
   * `maxRetries` (default 2), each after the answer's Retry-After (default 1 s), never waiting longer
   * than `maxDelayMs` (default 10 000; a longer Retry-After returns the 503). `false`: no retries.
   */
  retry?: RetryOptions | false;
}

export interface RetryOptions {
  maxRetries?: number;
  maxDelayMs?: number;
}

export class Configuration {
  constructor(private configuration: ConfigurationParameters = {}) {}

  set config(configuration: Configuration) {
    this.configuration = configuration;
  }

  get basePath(): string {
    return (this.configuration.basePath ?? BASE_PATH).replace(/\/+$/, '');
  }

  get fetchApi(): FetchAPI | undefined {
    return this.configuration.fetchApi;
  }

  get middleware(): Middleware[] {
    return this.configuration.middleware ?? [];
  }

  get queryParamsStringify(): (params: HTTPQuery) => string {
    return this.configuration.queryParamsStringify ?? querystring;
  }

  get accessToken(): AccessTokenProvider | undefined {
    const accessToken = this.configuration.accessToken;
    if (accessToken === undefined || accessToken === '') return undefined;
    return typeof accessToken === 'function' ? accessToken : async () => accessToken;
  }

  get apiKey(): ((name: string) => Promise<string>) | undefined {
    const apiKey = this.configuration.apiKey;
    if (apiKey === undefined || apiKey === '') return undefined;
    return typeof apiKey === 'function' ? async (name: string) => apiKey(name) : async () => apiKey;
  }

  get headers(): HTTPHeaders | undefined {
    return this.configuration.headers;
  }

  get credentials(): RequestInit['credentials'] | undefined {
    return this.configuration.credentials;
  }

  get username(): string | undefined {
    return this.configuration.username;
  }

  get password(): string | undefined {
    return this.configuration.password;
  }

  get timeoutMs(): number | undefined {
    return this.configuration.timeoutMs;
  }

  get signal(): AbortSignal | undefined {
    return this.configuration.signal;
  }

  get retry(): Required<RetryOptions> | undefined {
    const retry = this.configuration.retry;
    if (retry === false) return undefined;
    return { maxRetries: retry?.maxRetries ?? 2, maxDelayMs: retry?.maxDelayMs ?? 10_000 };
  }
}

export const DefaultConfig = new Configuration();

export interface FetchParams {
  url: string;
  init: RequestInit;
}

export interface RequestOpts {
  path: string;
  method: HTTPMethod;
  headers: HTTPHeaders;
  query?: HTTPQuery;
  body?: HTTPBody;
}

export type InitOverrideFunction = (requestContext: { init: HTTPRequestInit; context: RequestOpts }) => Promise<RequestInit>;

/** What a call may override: any RequestInit (`signal` included), plus a timeout for this call. */
export interface RequestOverrides extends RequestInit {
  /** Abandons this call (and its retries) after this many milliseconds; replaces the configured timeoutMs. */
  timeoutMs?: number;
}

export interface RequestContext {
  fetch: FetchAPI;
  url: string;
  init: RequestInit;
}

export interface ResponseContext {
  fetch: FetchAPI;
  url: string;
  init: RequestInit;
  response: Response;
}

export interface ErrorContext {
  fetch: FetchAPI;
  url: string;
  init: RequestInit;
  error: unknown;
  response?: Response;
}

/** Like typescript-fetch: `pre` may replace the request, `post` the response, `onError` may answer a failed fetch. */
export interface Middleware {
  pre?(context: RequestContext): Promise<FetchParams | void>;
  post?(context: ResponseContext): Promise<Response | void>;
  onError?(context: ErrorContext): Promise<Response | void>;
}

/**
 * One operation of the OpenAPI document, as the generated API classes describe it. The request
 * parameters object is read by name: path and query parameters, and at most one JSON body.
 */
export interface Operation {
  /** The SDK method, for error messages. */
  readonly name: string;
  readonly method: HTTPMethod;
  /** Path template, e.g. /sessions/{sessionId}. */
  readonly path: string;
  readonly pathParams?: readonly string[];
  readonly queryParams?: readonly string[];
  /** Header parameters: request parameter name -> header name. */
  readonly headerParams?: Readonly<Record<string, string>>;
  /** Parameters the caller must give (RequiredError before any request otherwise). */
  readonly required?: readonly string[];
  /** The parameter sent as the application/json body. */
  readonly body?: string;
  /** The body model's ToJSON helper (dates to ISO 8601 strings, as typescript-fetch does). */
  readonly bodyToJSON?: (value: any) => unknown;
  /** Name of the http bearer security scheme the operation requires, if any. */
  readonly bearer?: string;
  /** Header of the apiKey security scheme the operation requires, if any. */
  readonly apiKeyHeader?: string;
}

export class BaseAPI {
  private static readonly jsonRegex = /^(?:application\/json|[^;/ \t]+\/[^;/ \t]+[+]json)[ \t]*(;.*)?$/i;
  private middleware: Middleware[];

  constructor(protected configuration = DefaultConfig) {
    this.middleware = configuration.middleware;
  }

  withMiddleware<T extends BaseAPI>(this: T, ...middlewares: Middleware[]): T {
    const next = this.clone<T>();
    next.middleware = next.middleware.concat(...middlewares);
    return next;
  }

  withPreMiddleware<T extends BaseAPI>(this: T, ...preMiddlewares: Array<NonNullable<Middleware['pre']>>): T {
    return this.withMiddleware<T>(...preMiddlewares.map((pre) => ({ pre })));
  }

  withPostMiddleware<T extends BaseAPI>(this: T, ...postMiddlewares: Array<NonNullable<Middleware['post']>>): T {
    return this.withMiddleware<T>(...postMiddlewares.map((post) => ({ post })));
  }

  protected isJsonMime(mime: string | null | undefined): boolean {
    return typeof mime === 'string' && BaseAPI.jsonRegex.test(mime);
  }

  /**
   * Sends one described operation: checks required parameters, fills the path, query, bearer
   * token and JSON body from `requestParameters`, and returns the 2xx response (ResponseError
   * otherwise).
   */
  protected async execute(
    operation: Operation,
    requestParameters: object,
    initOverrides?: RequestOverrides | InitOverrideFunction,
  ): Promise<Response> {
    const parameters = requestParameters as Record<string, unknown>;
    for (const name of operation.required ?? []) {
      if (parameters[name] == null) {
        throw new RequiredError(name, `Required parameter "${name}" was null or undefined when calling ${operation.name}().`);
      }
    }
    let path = operation.path;
    for (const name of operation.pathParams ?? []) {
      path = path.replace(`{${name}}`, encodeURIComponent(String(parameters[name])));
    }
    const query: HTTPQuery = {};
    for (const name of operation.queryParams ?? []) {
      const value = parameters[name];
      if (value != null) query[name] = value as HTTPQueryValue;
    }
    const headers: HTTPHeaders = {};
    if (operation.body !== undefined) headers['Content-Type'] = 'application/json';
    for (const [name, header] of Object.entries(operation.headerParams ?? {})) {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- header parameters are scalars (the schema says so)
      if (parameters[name] != null) headers[header] = String(parameters[name]);
    }
    if (operation.bearer !== undefined && this.configuration.accessToken) {
      const token = await this.configuration.accessToken(operation.bearer, []);
      if (token) headers['Authorization'] = `Bearer ${token}`;
    }
    if (operation.apiKeyHeader !== undefined && this.configuration.apiKey) {
      const key = await this.configuration.apiKey(operation.apiKeyHeader);
      if (key) headers[operation.apiKeyHeader] = key;
    }
    const body = operation.body === undefined ? undefined : (operation.bodyToJSON ?? ((value: unknown) => value))(parameters[operation.body]);
    return this.request({ path, method: operation.method, headers, query, body }, initOverrides);
  }

  protected async request(context: RequestOpts, initOverrides?: RequestOverrides | InitOverrideFunction): Promise<Response> {
    const timeoutMs = (typeof initOverrides === 'object' ? initOverrides.timeoutMs : undefined) ?? this.configuration.timeoutMs;
    // One signal for the whole call, retries and their waits included: the configuration's, the
    // call's own and the timeout's, whichever fires first.
    const signals = [this.configuration.signal, typeof initOverrides === 'object' ? initOverrides.signal : undefined, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)]
      .filter((signal): signal is AbortSignal => signal != null);
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    const retry = IDEMPOTENT.has(context.method) ? this.configuration.retry : undefined;
    for (let attempt = 0; ; attempt++) {
      const { url, init } = await this.createFetchParams(context, initOverrides);
      if (signal) init.signal = signal;
      const response = await this.fetchApi(url, init);
      if (response.status >= 200 && response.status < 300) return response;
      const delayMs = retry && response.status === 503 && attempt < retry.maxRetries ? retryAfterMs(response.headers.get('retry-after')) : undefined;
      if (delayMs === undefined || delayMs > retry!.maxDelayMs) throw await ResponseError.fromResponse(response);
      await response.body?.cancel();
      await sleep(delayMs, signal).catch((error: unknown) => {
        throw new FetchError(error instanceof Error ? error : new Error(String(error)), undefined, { url, method: context.method });
      });
    }
  }

  private async createFetchParams(context: RequestOpts, initOverrides?: RequestOverrides | InitOverrideFunction): Promise<FetchParams> {
    let url = this.configuration.basePath + context.path;
    if (context.query !== undefined && Object.keys(context.query).length !== 0) {
      url += '?' + this.configuration.queryParamsStringify(context.query);
    }
    const headers: HTTPHeaders = { ...this.configuration.headers, ...context.headers };
    const initParams: HTTPRequestInit = {
      method: context.method,
      headers,
      body: context.body,
      credentials: this.configuration.credentials,
    };
    if (this.configuration.username !== undefined || this.configuration.password !== undefined) {
      headers['Authorization'] ??= `Basic ${btoa(`${this.configuration.username ?? ''}:${this.configuration.password ?? ''}`)}`;
    }
    const overrides = typeof initOverrides === 'function' ? await initOverrides({ init: initParams, context }) : initOverrides;
    const { timeoutMs: _timeoutMs, ...requestOverrides } = (overrides ?? {}) as RequestOverrides;
    const overridden = { ...initParams, ...requestOverrides } as RequestInit & { body?: unknown };
    // JSON bodies are serialized here, after the overrides, so an override may still replace the value.
    const body = overridden.body !== undefined && this.isJsonMime(headers['Content-Type']) ? JSON.stringify(overridden.body) : overridden.body;
    return { url, init: { ...overridden, body: body as BodyInit | undefined } };
  }

  private fetchApi = async (url: string, init: RequestInit = {}): Promise<Response> => {
    let fetchParams: FetchParams = { url, init };
    for (const middleware of this.middleware) {
      if (middleware.pre) fetchParams = (await middleware.pre({ fetch: this.fetchApi, ...fetchParams })) || fetchParams;
    }
    let response: Response | undefined;
    try {
      response = await (this.configuration.fetchApi ?? fetch)(fetchParams.url, fetchParams.init);
    } catch (error) {
      for (const middleware of this.middleware) {
        if (middleware.onError) {
          response = (await middleware.onError({ fetch: this.fetchApi, ...fetchParams, error, response: response?.clone() })) || response;
        }
      }
      if (response === undefined) {
        throw new FetchError(error instanceof Error ? error : new Error(String(error)), undefined, { url: fetchParams.url, method: fetchParams.init.method ?? 'GET' });
      }
    }
    for (const middleware of this.middleware) {
      if (middleware.post) response = (await middleware.post({ fetch: this.fetchApi, ...fetchParams, response: response.clone() })) || response;
    }
    return response;
  };

  private clone<T extends BaseAPI>(this: T): T {
    const constructor = this.constructor as new (configuration: Configuration) => T;
    const next = new constructor(this.configuration);
    next.middleware = this.middleware.slice();
    return next;
  }
}

/**
 * A non-2xx answer. Besides the Response (as in typescript-fetch), it carries the service's RFC 9457
 * problem details, already read: `status`, `title`, `detail`, `type` (a stable URI to branch on,
 * e.g. urn:sessiond:problem:invalid-token) and the whole `problem` body. The Response body is left
 * unread (a clone was parsed), so `error.response.json()` still works.
 */
export class ResponseError extends Error {
  override name = 'ResponseError' as const;
  /** HTTP status code of the answer. */
  readonly status: number;
  /** Problem type URI; "about:blank" when the answer carried no problem details (RFC 9457 §4.2.1). */
  readonly type: string;
  /** Short summary of the problem type (the HTTP status text when there are no problem details). */
  readonly title: string;
  /** What went wrong with this request, when the service said. */
  readonly detail: string | undefined;
  /** The problem details body, when the answer was application/problem+json (or JSON of that shape). */
  readonly problem: Problem | undefined;

  constructor(
    public response: Response,
    msg?: string,
    problem?: Problem,
  ) {
    super(msg ?? ResponseError.describe(response, problem));
    this.problem = problem;
    this.status = response.status;
    this.type = problem?.type ?? 'about:blank';
    this.title = problem?.title ?? response.statusText;
    this.detail = problem?.detail;
  }

  /** Builds the error for a non-2xx response, reading its problem details from a clone of the body. */
  static async fromResponse(response: Response): Promise<ResponseError> {
    return new ResponseError(response, undefined, await readProblem(response));
  }

  private static describe(response: Response, problem: Problem | undefined): string {
    const summary = [problem?.title ?? response.statusText, problem?.detail].filter(Boolean).join(': ');
    return `Response returned an error code: ${response.status}${summary ? ` ${summary}` : ''}`;
  }
}

async function readProblem(response: Response): Promise<Problem | undefined> {
  const contentType = response.headers.get('content-type') ?? '';
  if (!/^application\/(problem\+)?json\b/i.test(contentType)) return undefined;
  try {
    const body: unknown = await response.clone().json();
    if (isProblem(body)) return body;
  } catch {
    // Not JSON after all: the error still carries status and status text.
  }
  return undefined;
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== 'object' || body === null) return false;
  const candidate = body as Record<string, unknown>;
  return typeof candidate.status === 'number' && typeof candidate.title === 'string' && typeof candidate.type === 'string';
}

/**
 * The request got no answer: connection refused, DNS failure, timeout, abort. Unlike typescript-fetch,
 * which says the same thing for all of them, the message and the properties name the method, the
 * URL and the cause (e.g. `GET http://localhost/sessions failed: connect ECONNREFUSED 127.0.0.1:80`),
 * so a wrong basePath or a timeout is told apart at a glance.
 */
export class FetchError extends Error {
  override name = 'FetchError' as const;
  /** The URL the request went to, when known. */
  readonly url: string | undefined;
  /** The request's method, when known. */
  readonly method: string | undefined;
  constructor(
    public override cause: Error,
    msg?: string,
    request?: { url: string; method: string },
  ) {
    super(msg ?? FetchError.describe(cause, request));
    this.url = request?.url;
    this.method = request?.method;
  }

  private static describe(cause: Error, request: { url: string; method: string } | undefined): string {
    // Node's fetch says "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND, …) one level down.
    const inner = cause.cause instanceof Error ? cause.cause : undefined;
    const reason = cause.name === 'TimeoutError' ? `timed out (${cause.message})` : [cause.message, inner?.message].filter(Boolean).join(': ');
    return `${request ? `${request.method} ${request.url}` : 'The request'} failed: ${reason}`;
  }
}

/** A required parameter was missing: thrown before any request is sent. */
export class RequiredError extends Error {
  override name = 'RequiredError' as const;
  constructor(
    public field: string,
    msg?: string,
  ) {
    super(msg);
  }
}

/**
 * Encodes query parameters as typescript-fetch does: arrays and sets repeat the key (`a=1&a=2`),
 * dates are sent as ISO 8601, nested objects as `outer[inner]=…`; null and undefined are left out.
 */
export function querystring(params: HTTPQuery, prefix: string = ''): string {
  const encode = (value: string | number | boolean | Date) => encodeURIComponent(value instanceof Date ? value.toISOString() : String(value));
  return Object.keys(params)
    .flatMap((key) => {
      const value = params[key];
      const fullKey = prefix.length > 0 ? `${prefix}[${key}]` : key;
      if (value === null || value === undefined) return [];
      if (value instanceof Date || typeof value !== 'object') return [`${encodeURIComponent(fullKey)}=${encode(value)}`];
      if (Array.isArray(value) || value instanceof Set) {
        return [...value].filter((v) => v !== null && v !== undefined).map((v) => `${encodeURIComponent(fullKey)}=${encode(v as string)}`);
      }
      const nested = querystring(value, fullKey);
      return nested.length > 0 ? [nested] : [];
    })
    .join('&');
}

/** The separators of OpenAPI 2 collection formats (typescript-fetch exports them). */
export const COLLECTION_FORMATS = {
  csv: ',',
  ssv: ' ',
  tsv: '\t',
  pipes: '|',
};

/** Whether `json[key]` is present (neither null nor undefined). */
export function exists(json: any, key: string): boolean {
  const value = json[key];
  return value !== null && value !== undefined;
}

/** A new object with `fn` applied to every value of `data` (used by map-typed models). */
export function mapValues(data: any, fn: (item: any) => any): any {
  const result: { [key: string]: any } = {};
  for (const key of Object.keys(data)) result[key] = fn(data[key]);
  return result;
}

export interface Consume {
  contentType: string;
}

/** Whether an operation consuming these media types must send a multipart form (none here do). */
export function canConsumeForm(consumes: Consume[]): boolean {
  return consumes.some((consume) => consume.contentType === 'multipart/form-data');
}

/** Methods whose repetition has the effect of one request (RFC 9110 §9.2.2): the ones retried on 503. */
const IDEMPOTENT = new Set<HTTPMethod>(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Retry-After (RFC 9110 §10.2.3) in milliseconds: delay-seconds or an HTTP date; 1 s when absent or unreadable. */
function retryAfterMs(header: string | null): number {
  if (header === null) return 1000;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - Date.now());
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface ApiResponse<T> {
  raw: Response;
  value(): Promise<T>;
}

export interface ResponseTransformer<T> {
  (json: unknown): T;
}

export class JSONApiResponse<T> implements ApiResponse<T> {
  constructor(
    public raw: Response,
    private transformer: ResponseTransformer<T> = (jsonValue: unknown) => jsonValue as T,
  ) {}

  async value(): Promise<T> {
    return this.transformer(await this.raw.json());
  }
}

export class VoidApiResponse implements ApiResponse<void> {
  constructor(public raw: Response) {}

  async value(): Promise<void> {
    return undefined;
  }
}

export class BlobApiResponse implements ApiResponse<Blob> {
  constructor(public raw: Response) {}

  async value(): Promise<Blob> {
    return await this.raw.blob();
  }
}

export class TextApiResponse implements ApiResponse<string> {
  constructor(public raw: Response) {}

  async value(): Promise<string> {
    return await this.raw.text();
  }
}
