import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { SignJWT, type JWTHeaderParameters } from 'jose';
import { generateKeyMaterial, type KeyMaterial } from '../../src/tokens/key-store.ts';
import { backendNames } from '../helpers/backends.ts';
import {
  assertEveryOperationRefuses,
  assertProblem,
  assertSessionsUnchanged,
  eachRow,
  newVictim,
  protectedOperations,
  sessionSnapshot,
  startWatchedApp,
  type Row,
} from '../helpers/hostile.ts';
import { login, registerUser, type SignedIn } from '../helpers/http.ts';

// Access-token attacks over real HTTP: forged, tampered, confused, expired and revoked tokens are
// refused with 401 problem details on every protected route, and none of them changes anything.
// Tokens are forged with jose; the app is given key material we hold, so a forgery can be made
// "right in every way but one" (the one defect under test).

const ISSUER = 'sessiond';
const AUDIENCE = 'sessiond';
const TYP = 'at+jwt';
const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const decodeSegment = (token: string, index: number) => JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<string, unknown>;

interface Forgery {
  /** Claims to set (merged over valid ones); a value of undefined removes the claim. */
  claims?: Record<string, unknown>;
  /** Header members (merged over a valid header); undefined removes one. */
  header?: Record<string, unknown>;
  /** Signing key; our own by default. */
  key?: crypto.KeyObject | Uint8Array;
}

/** Everything a forgery row may use: the victim, another user, our keys and a signer. */
interface Kit {
  victim: SignedIn;
  other: SignedIn;
  ourKid: string;
  ourPrivateKey: crypto.KeyObject;
  ourPublicJwk: crypto.JsonWebKey;
  attacker: { privateKey: crypto.KeyObject; publicJwk: crypto.JsonWebKey };
  /** The app's clock, in JWT seconds. */
  nowSeconds(): number;
  /** Signs a token that is valid for the victim's session except for what `f` changes. */
  forge(f?: Forgery): Promise<string>;
}

function makeKit(keys: KeyMaterial, clockNowMs: () => number, victim: SignedIn, other: SignedIn, jwks: { keys: crypto.JsonWebKey[] }): Kit {
  const ours = keys.signingKeys[0]!;
  const ourPrivateKey = crypto.createPrivateKey({ key: ours.privateJwk, format: 'jwk' });
  const ourPublicJwk = jwks.keys.find((k) => k.kid === ours.kid);
  assert.ok(ourPublicJwk, 'the JWKS publishes our key');
  const attackerPair = crypto.generateKeyPairSync('ed25519');
  const strip = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    victim,
    other,
    ourKid: ours.kid,
    ourPrivateKey,
    ourPublicJwk,
    attacker: { privateKey: attackerPair.privateKey, publicJwk: attackerPair.publicKey.export({ format: 'jwk' }) },
    nowSeconds: () => Math.floor(clockNowMs() / 1000),
    async forge(f = {}) {
      const now = this.nowSeconds();
      const claims = strip({ sub: victim.userId, sid: victim.sessionId, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 900, jti: crypto.randomUUID(), ...f.claims });
      const header = strip({ alg: 'EdDSA', kid: ours.kid, typ: TYP, ...f.header });
      return new SignJWT(claims).setProtectedHeader(header as JWTHeaderParameters).sign(f.key ?? ourPrivateKey);
    },
  };
}

/** A token with any header and no real signature (jose will not sign `alg: none`). */
const unsigned = (header: Record<string, unknown>, claims: Record<string, unknown>, signature = '') => `${b64url(header)}.${b64url(claims)}.${signature}`;

/** An EdDSA token signed by hand, for headers jose refuses to produce (an unknown `crit`). */
function signByHand(header: Record<string, unknown>, token: string, key: crypto.KeyObject): string {
  const input = `${b64url(header)}.${token.split('.')[1]}`;
  return `${input}.${crypto.sign(null, Buffer.from(input), key).toString('base64url')}`;
}

interface TokenRow extends Row {
  /** The whole Authorization header value. */
  authorization: (kit: Kit) => Promise<string> | string;
}
const bearer = (make: (kit: Kit) => Promise<string> | string) => async (kit: Kit) => `Bearer ${await make(kit)}`;

const forgedRows: TokenRow[] = [
  // Wrong key
  { name: 'another Ed25519 key, our kid', authorization: bearer((k) => k.forge({ key: k.attacker.privateKey })) },
  { name: 'another Ed25519 key, its own kid', authorization: bearer((k) => k.forge({ key: k.attacker.privateKey, header: { kid: 'attacker-key' } })) },
  { name: 'another Ed25519 key, no kid', authorization: bearer((k) => k.forge({ key: k.attacker.privateKey, header: { kid: undefined } })) },
  { name: 'another key embedded in the header (jwk), our kid', authorization: bearer((k) => k.forge({ key: k.attacker.privateKey, header: { jwk: k.attacker.publicJwk } })) },
  { name: 'another key embedded in the header (jwk), no kid', authorization: bearer((k) => k.forge({ key: k.attacker.privateKey, header: { kid: undefined, jwk: k.attacker.publicJwk } })) },
  { name: 'another key by reference (jku)', authorization: bearer((k) => k.forge({ key: k.attacker.privateKey, header: { kid: 'attacker-key', jku: 'http://127.0.0.1:1/jwks.json' } })) },
  { name: 'another algorithm (ES256, its own key), our kid', authorization: bearer((k) => k.forge({ key: crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, header: { alg: 'ES256' } })) },
  // alg: none
  { name: 'alg none, empty signature', authorization: bearer((k) => unsigned({ alg: 'none', typ: TYP }, decodeSegment(k.victim.accessToken, 1))) },
  { name: 'alg none with our kid and a made-up signature', authorization: bearer((k) => unsigned({ alg: 'none', kid: k.ourKid, typ: TYP }, decodeSegment(k.victim.accessToken, 1), 'AAAA')) },
  { name: 'alg "None" (case variant)', authorization: bearer((k) => unsigned({ alg: 'None', kid: k.ourKid, typ: TYP }, decodeSegment(k.victim.accessToken, 1), 'AAAA')) },
  { name: "alg none header on a real token's payload and signature", authorization: bearer((k) => { const [, payload, signature] = k.victim.accessToken.split('.'); return `${b64url({ alg: 'none', kid: k.ourKid, typ: TYP })}.${payload}.${signature}`; }) },
  // Key confusion: HS256 with our public key (from the JWKS) as the HMAC secret, in every encoding a library might use
  { name: 'HS256 keyed with our public key (raw x bytes)', authorization: bearer((k) => k.forge({ header: { alg: 'HS256' }, key: Buffer.from(k.ourPublicJwk.x!, 'base64url') })) },
  { name: 'HS256 keyed with our public key (JWK JSON)', authorization: bearer((k) => k.forge({ header: { alg: 'HS256' }, key: Buffer.from(JSON.stringify(k.ourPublicJwk)) })) },
  { name: 'HS256 keyed with our public key (PEM)', authorization: bearer((k) => k.forge({ header: { alg: 'HS256' }, key: Buffer.from(crypto.createPublicKey({ key: k.ourPublicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string) })) },
  { name: 'HS256 keyed with our public key (base64url x as text)', authorization: bearer((k) => k.forge({ header: { alg: 'HS256' }, key: Buffer.from(k.ourPublicJwk.x!) })) },
  // Signed by us, one claim or header member wrong
  { name: 'expired (exp a minute ago)', authorization: bearer((k) => k.forge({ claims: { iat: k.nowSeconds() - 960, exp: k.nowSeconds() - 60 } })) },
  { name: 'not yet valid (nbf in an hour)', authorization: bearer((k) => k.forge({ claims: { nbf: k.nowSeconds() + 3600 } })) },
  { name: 'wrong iss', authorization: bearer((k) => k.forge({ claims: { iss: 'https://evil.example' } })) },
  { name: 'no iss', authorization: bearer((k) => k.forge({ claims: { iss: undefined } })) },
  { name: 'wrong aud', authorization: bearer((k) => k.forge({ claims: { aud: 'another-service' } })) },
  { name: 'aud list without ours', authorization: bearer((k) => k.forge({ claims: { aud: ['another-service', 'billing'] } })) },
  { name: 'no aud', authorization: bearer((k) => k.forge({ claims: { aud: undefined } })) },
  { name: 'wrong typ (JWT)', authorization: bearer((k) => k.forge({ header: { typ: 'JWT' } })) },
  { name: 'wrong typ (refresh+jwt)', authorization: bearer((k) => k.forge({ header: { typ: 'refresh+jwt' } })) },
  { name: 'no typ', authorization: bearer((k) => k.forge({ header: { typ: undefined } })) },
  { name: 'no sid', authorization: bearer((k) => k.forge({ claims: { sid: undefined } })) },
  { name: 'sid not a UUID', authorization: bearer((k) => k.forge({ claims: { sid: "' OR 1=1--" } })) },
  { name: 'sid as an object (NoSQL operator)', authorization: bearer((k) => k.forge({ claims: { sid: { $ne: null } } })) },
  { name: 'sid uppercase', authorization: bearer((k) => k.forge({ claims: { sid: k.victim.sessionId.toUpperCase() } })) },
  { name: 'sid of no session', authorization: bearer((k) => k.forge({ claims: { sid: crypto.randomUUID() } })) },
  { name: "sid of the victim's session, sub of another user", authorization: bearer((k) => k.forge({ claims: { sub: k.other.userId } })) },
  { name: "sub of the victim, sid of another user's session", authorization: bearer((k) => k.forge({ claims: { sid: k.other.sessionId } })) },
  { name: 'no sub', authorization: bearer((k) => k.forge({ claims: { sub: undefined } })) },
  { name: 'sub as a number', authorization: bearer((k) => k.forge({ claims: { sub: 1 } })) },
  { name: 'no exp', authorization: bearer((k) => k.forge({ claims: { exp: undefined } })) },
  { name: 'exp as a string', authorization: bearer((k) => k.forge({ claims: { exp: '9999999999' } })) },
  { name: 'unknown critical header', authorization: bearer(async (k) => signByHand({ ...decodeSegment(await k.forge(), 0), crit: ['x-must-understand'], 'x-must-understand': true }, await k.forge(), k.ourPrivateKey)) },
  { name: 'over 8 KB (padding claim)', authorization: bearer((k) => k.forge({ claims: { pad: 'p'.repeat(8 * 1024) } })) },
  // Real tokens, damaged
  { name: 'tampered payload (sub of another user)', authorization: bearer((k) => { const [h, , s] = k.victim.accessToken.split('.'); return `${h}.${b64url({ ...decodeSegment(k.victim.accessToken, 1), sub: k.other.userId })}.${s}`; }) },
  { name: "tampered payload (another user's sid)", authorization: bearer((k) => { const [h, , s] = k.victim.accessToken.split('.'); return `${h}.${b64url({ ...decodeSegment(k.victim.accessToken, 1), sid: k.other.sessionId })}.${s}`; }) },
  { name: 'tampered payload (exp a year later)', authorization: bearer((k) => { const p = decodeSegment(k.victim.accessToken, 1); const [h, , s] = k.victim.accessToken.split('.'); return `${h}.${b64url({ ...p, exp: (p.exp as number) + 31_536_000 })}.${s}`; }) },
  { name: "another token's signature", authorization: bearer((k) => { const [h, p] = k.victim.accessToken.split('.'); return `${h}.${p}.${k.other.accessToken.split('.')[2]}`; }) },
  { name: 'truncated by one character', authorization: bearer((k) => k.victim.accessToken.slice(0, -1)) },
  { name: 'truncated to half', authorization: bearer((k) => k.victim.accessToken.slice(0, k.victim.accessToken.length >> 1)) },
  { name: 'without its signature', authorization: bearer((k) => k.victim.accessToken.split('.').slice(0, 2).join('.')) },
  { name: 'without its signature, trailing dot', authorization: bearer((k) => `${k.victim.accessToken.split('.').slice(0, 2).join('.')}.`) },
  { name: 'with a fourth segment', authorization: bearer((k) => `${k.victim.accessToken}.AAAA`) },
  { name: 'signature bit-flipped', authorization: bearer((k) => { const t = k.victim.accessToken; const last = t.at(-2) === 'A' ? 'B' : 'A'; return `${t.slice(0, -2)}${last}${t.at(-1)}`; }) },
  { name: 'a refresh token as access token', authorization: bearer((k) => k.victim.refreshToken) },
  // Header shapes
  { name: 'Bearer with many dots', authorization: () => `Bearer ${'.'.repeat(200)}` },
  { name: 'Bearer with dots between letters', authorization: () => `Bearer ${'a.'.repeat(2000)}a` },
  { name: 'Bearer with over 8 KB of token characters', authorization: () => `Bearer ${'a'.repeat(9 * 1024)}` },
  { name: 'Bearer and nothing', authorization: () => 'Bearer' },
  { name: 'Bearer and a space', authorization: () => 'Bearer ' },
  { name: 'two tokens', authorization: (k) => `Bearer ${k.victim.accessToken} ${k.victim.accessToken}` },
  { name: 'token without a scheme', authorization: (k) => k.victim.accessToken },
  { name: 'Basic scheme with the password', authorization: (k) => `Basic ${Buffer.from(`${k.victim.email}:${k.victim.password}`).toString('base64')}` },
  { name: 'token in a JSON object', authorization: (k) => `Bearer {"token":"${k.victim.accessToken}"}` },
];

for (const backend of backendNames) {
  // One app (and database) per backend for the whole file, for speed. Every concern makes its own
  // users; the one that moves the clock past token lifetimes runs last.
  test(`access tokens: forged, revoked and expired are refused (${backend})`, async (t) => {
    const keys = generateKeyMaterial(Date.now());
    const env = await startWatchedApp(t, backend, { deps: { keys } });
    if (!env) return;
    const { http, clock } = env;
    const operations = await protectedOperations(http);

    await t.test('forged and malformed tokens are 401 on every protected route and change nothing', async (t) => {
      // Two devices, so a revoke-all that got through would have something to take.
      const { victim, before } = await newVictim(http, { devices: 2 });
      const other = await registerUser(http);
      const jwks = await http.get('/.well-known/jwks.json');
      assert.equal(jwks.status, 200);
      const kit = makeKit(keys, () => clock.now(), victim, other, jwks.body);

      // Control: a token that is right in every way is accepted, so each row below is refused for its one defect.
      const control = await http.get('/auth/me', { token: await kit.forge() });
      assert.equal(control.status, 200, `a correct forgery with our key is accepted: ${control.text}`);
      assert.equal(control.body.sessionId, victim.sessionId);
      const lowercase = await http.get('/auth/me', { headers: { authorization: `bearer ${victim.accessToken}` } });
      assert.equal(lowercase.status, 200, 'the auth scheme is case-insensitive (RFC 9110 §11.1)');

      const otherBefore = await sessionSnapshot(http, other);
      await eachRow(t, env, forgedRows, async (row) => {
        await assertEveryOperationRefuses(http, operations, { authorization: await row.authorization(kit), sessionId: victim.sessionId, label: row.name });
        await assertSessionsUnchanged(http, victim, before, row.name);
      });
      await assertSessionsUnchanged(http, other, otherBefore, 'the other user');
    });

    await t.test("a revoked session's token is 401 on every protected route, however it was revoked", async (t) => {
      const { victim: bystander, before: bystanderBefore } = await newVictim(http);
      const ways: Array<Row & { revoke: (user: SignedIn, sibling: SignedIn) => Promise<number> }> = [
        { name: 'revoked from another of its sessions', revoke: async (user, sibling) => (await http.delete(`/sessions/${user.sessionId}`, { token: sibling.accessToken })).status },
        { name: 'revoked by itself', revoke: async (user) => (await http.delete(`/sessions/${user.sessionId}`, { token: user.accessToken })).status },
        { name: 'signed out (logout)', revoke: async (user) => (await http.post('/auth/logout', undefined, { token: user.accessToken })).status },
        { name: 'revoke all, from another session', revoke: async (_user, sibling) => (await http.delete('/sessions', { token: sibling.accessToken })).status },
        { name: 'revoke all others (keepCurrent), from another session', revoke: async (_user, sibling) => (await http.delete('/sessions?keepCurrent=true', { token: sibling.accessToken })).status },
        {
          name: 'revoked for refresh-token reuse',
          revoke: async (user) => {
            assert.equal((await http.post('/auth/refresh', { refreshToken: user.refreshToken })).status, 200);
            clock.advanceSeconds(60); // past the replay grace window: the old token again is reuse
            return (await http.post('/auth/refresh', { refreshToken: user.refreshToken })).status;
          },
        },
      ];
      await eachRow(t, env, ways, async (way) => {
        const user = await registerUser(http);
        const sibling = await login(http, user);
        assert.ok([200, 204, 401].includes(await way.revoke(user, sibling)), 'the revocation itself was answered');
        await assertEveryOperationRefuses(http, operations, { authorization: `Bearer ${user.accessToken}`, sessionId: user.sessionId, label: way.name });
        assertProblem(await http.post('/auth/refresh', { refreshToken: user.refreshToken }), 401, `${way.name}: its refresh token`);
        const validation = await http.get(`/sessions/validate/${user.sessionId}`, { token: (await login(http, user)).accessToken });
        assert.deepEqual(validation.body, { sessionId: user.sessionId, valid: false, expiresAt: null }, `${way.name}: reported revoked`);
      });
      await assertSessionsUnchanged(http, bystander, bystanderBefore, 'a bystander');
    });

    await t.test('an access token past its exp (clock moved 901 s) is 401; the session itself lives on', async () => {
      const { victim, before } = await newVictim(http);
      clock.advanceSeconds(899);
      assert.equal((await http.get('/auth/me', { token: victim.accessToken })).status, 200, 'valid just before expiry');
      clock.advanceSeconds(2); // 901 s after issue: the 900 s lifetime has passed
      await assertEveryOperationRefuses(http, operations, { authorization: `Bearer ${victim.accessToken}`, sessionId: victim.sessionId, label: 'expired' });
      const expired = await http.get('/sessions', { token: victim.accessToken });
      assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/, 'tells the client its token is the problem (RFC 6750 §3.1)');
      // Only the token expired: the refresh token gets a new one for the same, still active session.
      const refreshed = await http.post('/auth/refresh', { refreshToken: victim.refreshToken });
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.equal(refreshed.body.sessionId, victim.sessionId);
      await assertSessionsUnchanged(http, { accessToken: refreshed.body.accessToken }, before, 'after expiry');
    });
  });
}
