import { generateDpopKeyPair } from './sdk.ts';

/**
 * This browser's device key (DPoP, RFC 9449): an ECDSA P-256 key pair made by WebCrypto as
 * non-extractable, so page scripts can sign with it but nobody can read the private key out, and
 * kept in IndexedDB (which stores the CryptoKey object itself, not its bytes), so it survives a
 * reload. Sessions signed in from this page are bound to it: the refresh cookie copied out of the
 * browser is useless elsewhere. What it does not stop: code running in this page, or malware on
 * the device, can ask the browser to sign while the key is here.
 */
const DATABASE = 'sessiond';
const STORE = 'device-keys';
const KEY = 'dpop';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function openDatabase(): Promise<IDBDatabase> {
  const open = indexedDB.open(DATABASE, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  return request(open);
}

/**
 * The stored key pair, or a new one (stored before it is returned). Undefined where the browser
 * offers no IndexedDB or WebCrypto (e.g. an insecure origin): the page then signs in unbound, as
 * before, unless the service requires binding.
 */
export async function loadDeviceKey(): Promise<CryptoKeyPair | undefined> {
  if (typeof indexedDB === 'undefined' || typeof crypto?.subtle === 'undefined') return undefined;
  try {
    const db = await openDatabase();
    try {
      const stored = await request(db.transaction(STORE).objectStore(STORE).get(KEY)) as CryptoKeyPair | undefined;
      if (stored?.privateKey && stored.publicKey) return stored;
      const made = await generateDpopKeyPair('ES256');
      await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(made, KEY));
      return made;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}
