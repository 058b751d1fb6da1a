import crypto from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** What a test proof claims and how its header is built; every field can be spoiled on purpose. */
export interface ProofOptions {
  htm: string;
  htu: string;
  /** Sets `ath` to this token's SHA-256. */
  accessToken?: string;
  nonce?: string;
  /** Default: the clock's now. */
  iatMs?: number;
  jti?: string;
  /** Merged over the protected header (e.g. a spoiled `jwk` or `typ`). */
  header?: Record<string, unknown>;
  /** Merged over the claims (e.g. `ath` of another token, or a claim deleted with undefined). */
  claims?: Record<string, unknown>;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A device's key pair, signing proofs as a real client would (jose, WebCrypto keys). */
export class DeviceKey {
  private constructor(
    readonly alg: 'ES256' | 'EdDSA',
    readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly jkt: string,
    private readonly now: () => number,
  ) {}

  static async generate(now: () => number, alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<DeviceKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    return new DeviceKey(alg, privateKey, publicJwk, await calculateJwkThumbprint(publicJwk, 'sha256'), now);
  }

  /** The private key as a JWK (for the "private key in the header" case). */
  privateJwk(): Promise<JWK> {
    return exportJWK(this.privateKey);
  }

  async proof(options: ProofOptions): Promise<string> {
    const claims: Record<string, unknown> = {
      htm: options.htm,
      htu: options.htu,
      iat: Math.floor((options.iatMs ?? this.now()) / 1000),
      jti: options.jti ?? crypto.randomUUID(),
      ...(options.accessToken ? { ath: crypto.createHash('sha256').update(options.accessToken).digest('base64url') } : {}),
      ...(options.nonce ? { nonce: options.nonce } : {}),
      ...options.claims,
    };
    const header = { alg: this.alg, typ: 'dpop+jwt', jwk: this.publicJwk, ...options.header };
    return new SignJWT(claims).setProtectedHeader(header).sign(this.privateKey);
  }

  /** A proof with a header and claims as given, signed with HS256 under `secret` (never accepted). */
  static hs256(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string): string {
    const input = `${b64({ ...header, alg: 'HS256' })}.${b64(claims)}`;
    return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
  }

  /** An unsigned proof (`alg: none`). */
  static unsigned(header: Record<string, unknown>, claims: Record<string, unknown>): string {
    return `${b64({ ...header, alg: 'none' })}.${b64(claims)}.AA`; // a signature part, so only the alg check can refuse it
  }
}

/** The payload of a JWT, unverified (to read cnf.jkt in tests). */
export const jwtPayload = (token: string): Record<string, any> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
