// Hand-written (not generated): DPoP proofs (RFC 9449) for sessions bound to a key the device holds.
// Only WebCrypto and fetch: the same code runs in browsers and in Node 20.
import type { FetchAPI, Middleware } from './runtime.ts';

/**
 * How a client binds its session: make a key pair once (non-extractable in browsers: the private key
 * can sign but never be read out, so a script or a copied profile cannot take it elsewhere), keep it
 * (IndexedDB in browsers), and send every request through `withDpop` or `dpopMiddleware`. Sign-up and
 * sign-in then bind the new session to the key (`tokenType: "DPoP"`), its refreshes prove the key,
 * and its access token is sent as `Authorization: DPoP` with a proof.
 */
export function generateDpopKeyPair(algorithm: 'ES256' | 'EdDSA' = 'ES256'): Promise<CryptoKeyPair> {
  const params = algorithm === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'Ed25519' };
  return crypto.subtle.generateKey(params, false, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

const encoder = new TextEncoder();
function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = '';
  for (let i = 0; i < view.length; i++) binary += String.fromCharCode(view[i]!);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
const base64urlJson = (value: unknown) => base64url(encoder.encode(JSON.stringify(value)));

/** The JWS algorithm of a WebCrypto key pair: ES256 (ECDSA P-256) or EdDSA (Ed25519). */
function algorithmOf(key: CryptoKey): { alg: 'ES256' | 'EdDSA'; sign: AlgorithmIdentifier | EcdsaParams } {
  if (key.algorithm.name === 'ECDSA' && (key.algorithm as EcKeyAlgorithm).namedCurve === 'P-256') return { alg: 'ES256', sign: { name: 'ECDSA', hash: 'SHA-256' } };
  if (key.algorithm.name === 'Ed25519') return { alg: 'EdDSA', sign: { name: 'Ed25519' } };
  throw new Error('DPoP keys must be ECDSA P-256 or Ed25519 key pairs');
}

/** Makes DPoP proofs with one key pair. */
export class DpopSigner {
  private jwk: Promise<JsonWebKey>;
  /** Server time minus local time, learned from a refusal's `Date` header (see retryReason). */
  clockOffsetMs = 0;

  constructor(private readonly keyPair: CryptoKeyPair) {
    algorithmOf(keyPair.privateKey);
    // Public members only: a public key is always exportable, and nothing private is ever put in a proof.
    this.jwk = crypto.subtle.exportKey('jwk', keyPair.publicKey).then(({ kty, crv, x, y }) => (y === undefined ? { kty, crv, x } : { kty, crv, x, y }));
  }

  /** A proof for one request: `htu` without query and fragment, `ath` when an access token goes with it. */
  async proof(request: { method: string; url: string; accessToken?: string | undefined; nonce?: string | undefined }): Promise<string> {
    const { alg, sign } = algorithmOf(this.keyPair.privateKey);
    const url = new URL(request.url);
    const claims: Record<string, unknown> = {
      htm: request.method.toUpperCase(),
      htu: `${url.protocol}//${url.host}${url.pathname}`,
      iat: Math.floor((Date.now() + this.clockOffsetMs) / 1000),
      jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
    };
    if (request.accessToken !== undefined) claims.ath = base64url(await crypto.subtle.digest('SHA-256', encoder.encode(request.accessToken)));
    if (request.nonce !== undefined) claims.nonce = request.nonce;
    const input = `${base64urlJson({ typ: 'dpop+jwt', alg, jwk: await this.jwk })}.${base64urlJson(claims)}`;
    return `${input}.${base64url(await crypto.subtle.sign(sign, this.keyPair.privateKey, encoder.encode(input)))}`;
  }
}

/** Whether an access token is bound to a key (its payload has `cnf.jkt`); it is then sent with the DPoP scheme. */
export function isBoundAccessToken(token: string): boolean {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { cnf?: { jkt?: unknown } };
    return typeof json.cnf?.jkt === 'string';
  } catch {
    return false;
  }
}

/**
 * The DPoP error a response names, where RFC 9449 puts it: a resource request's 401 in its
 * `WWW-Authenticate: DPoP error="…"` challenge (§7.1), a token endpoint's 400 (sign-up, sign-in,
 * refresh; §5, §8) in its body: sessiond's problem type, or an OAuth server's `error` member.
 */
async function dpopErrorOf(response: Response): Promise<'use_dpop_nonce' | 'invalid_dpop_proof' | undefined> {
  if (response.status === 401) {
    return /^DPoP\b.*\berror="(use_dpop_nonce|invalid_dpop_proof)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1] as 'use_dpop_nonce' | 'invalid_dpop_proof' | undefined;
  }
  if (response.status !== 400 || !/json/i.test(response.headers.get('content-type') ?? '')) return undefined;
  try {
    // A clone: the caller still reads the body of an answer not retried.
    const body = (await response.clone().json()) as { type?: unknown; error?: unknown };
    const named = typeof body.type === 'string' ? /^urn:sessiond:problem:(use-dpop-nonce|invalid-dpop-proof)$/.exec(body.type)?.[1]?.replaceAll('-', '_') : body.error;
    return named === 'use_dpop_nonce' || named === 'invalid_dpop_proof' ? named : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a refused request is worth one more try with a new proof, learning what the server said:
 * a (new) server nonce (`use_dpop_nonce`, RFC 9449 §8), or, for a refused proof, the server's time
 * (`Date`) when this device's clock is off by more than a few seconds (an `iat` outside the
 * server's window would otherwise refuse every proof of a device with a wrong clock).
 */
async function retryReason(response: Response, signer: DpopSigner, state: { nonce: string | undefined }, usedOffsetMs: number): Promise<boolean> {
  const error = response.ok ? undefined : await dpopErrorOf(response);
  const nonce = response.headers.get('dpop-nonce');
  if (error === 'use_dpop_nonce' && nonce) {
    state.nonce = nonce;
    return true;
  }
  if (error === 'invalid_dpop_proof') {
    const serverMs = Date.parse(response.headers.get('date') ?? '');
    const offsetMs = serverMs - Date.now();
    // Compared with the offset this request's proof was made with (not the current one: a request
    // that was in flight while another one taught the offset must still be resent).
    if (Number.isFinite(offsetMs) && Math.abs(offsetMs - usedOffsetMs) > 5_000) {
      signer.clockOffsetMs = offsetMs;
      return true;
    }
  }
  if (nonce) state.nonce = nonce;
  return false;
}

interface Prepared {
  init: RequestInit;
  accessToken: string | undefined;
}

/** Adds the proof to a request and turns `Authorization: Bearer <bound token>` into `DPoP <token>`. */
async function prepare(signer: DpopSigner, url: string, init: RequestInit, nonce: string | undefined): Promise<Prepared> {
  const headers = new Headers(init.headers);
  const authorization = headers.get('authorization');
  const scheme = authorization ? /^(Bearer|DPoP) +(\S+)$/i.exec(authorization) : null;
  let accessToken: string | undefined;
  if (scheme && (scheme[1]!.toLowerCase() === 'dpop' || isBoundAccessToken(scheme[2]!))) {
    accessToken = scheme[2]!;
    headers.set('authorization', `DPoP ${accessToken}`);
  }
  headers.set('dpop', await signer.proof({ method: init.method ?? 'GET', url, accessToken, nonce }));
  return { init: { ...init, headers }, accessToken };
}

/**
 * A fetch that signs every request with the key pair: use it as `fetchApi` of a Configuration (or
 * anywhere). It remembers the server's latest `DPoP-Nonce` and, when the server asks for a nonce
 * (`use_dpop_nonce`), sends the request once more with a new proof carrying it.
 */
export function withDpop(keyPair: CryptoKeyPair, options: { fetchApi?: FetchAPI } = {}): FetchAPI {
  const signer = new DpopSigner(keyPair);
  const fetchApi: FetchAPI = options.fetchApi ?? ((url, init) => fetch(url, init));
  const state: { nonce: string | undefined } = { nonce: undefined };
  return async (url, init = {}) => {
    const target = String(url);
    const usedOffsetMs = signer.clockOffsetMs;
    let response = await fetchApi(url, (await prepare(signer, target, init, state.nonce)).init);
    if (await retryReason(response, signer, state, usedOffsetMs)) {
      response = await fetchApi(url, (await prepare(signer, target, init, state.nonce)).init);
      state.nonce = response.headers.get('dpop-nonce') ?? state.nonce;
    }
    return response;
  };
}

/**
 * The same as a middleware of the generated clients: `new AuthApi(new Configuration({ middleware:
 * [dpopMiddleware(keyPair)] }))`. Put it last, so it signs the request as finally sent.
 */
export function dpopMiddleware(keyPair: CryptoKeyPair): Middleware {
  const signer = new DpopSigner(keyPair);
  const state: { nonce: string | undefined } = { nonce: undefined };
  // The offset each request's proof was made with, by its init (pre and post see the same object).
  const usedOffsets = new WeakMap<RequestInit, number>();
  return {
    pre: async ({ url, init }) => {
      const prepared = (await prepare(signer, url, init, state.nonce)).init;
      usedOffsets.set(prepared, signer.clockOffsetMs);
      return { url, init: prepared };
    },
    post: async ({ fetch: send, url, init, response }) => {
      if (!(await retryReason(response, signer, state, usedOffsets.get(init) ?? signer.clockOffsetMs))) return undefined;
      const retried = await send(url, (await prepare(signer, url, init, state.nonce)).init);
      state.nonce = retried.headers.get('dpop-nonce') ?? state.nonce;
      return retried;
    },
  };
}
