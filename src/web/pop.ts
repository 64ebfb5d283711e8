/**
 * Proof of possession with WebCrypto: the key derivation and the request MAC
 * of docs/pop.md, byte for byte what `crates/pop` computes (the server checks
 * every request this module signs, and the browser tests run them against it).
 * The derived key is a non-extractable `CryptoKey`: script on the page can
 * use it while the page lives but cannot read its bytes.
 */

import { InvalidArgumentError } from '../errors';
import { encode } from './base64url';

const utf8 = new TextEncoder();
const DERIVE_INFO = utf8.encode('keyward pop v1');
const REQUEST_DOMAIN = utf8.encode('keyward pop request v2');
const BEARER_PREFIX = 'Bearer ';
const methodPattern = /^[A-Za-z]{1,16}$/;

/**
 * `HKDF-SHA256(ikm = sessionKey, salt = UTF-8(sessionId), info = "keyward pop v1")`
 * as an HMAC-SHA256 signing key that cannot be exported.
 */
export async function derivePopKey(sessionKey: Uint8Array, sessionId: string): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', sessionKey as BufferSource, 'HKDF', false, ['deriveKey']);
  const params = { name: 'HKDF', hash: 'SHA-256', salt: utf8.encode(sessionId), info: DERIVE_INFO };
  return crypto.subtle.deriveKey(params, ikm, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign']);
}

/** `u64(fields) ‖ (u64(len) ‖ field)*`, every length 8 bytes big-endian. */
function canonical(fields: Uint8Array[]): Uint8Array {
  const total = 8 + fields.reduce((sum, f) => sum + 8 + f.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(fields.length));
  let at = 8;
  for (const field of fields) {
    view.setBigUint64(at, BigInt(field.length));
    out.set(field, at + 8);
    at += 8 + field.length;
  }
  return out;
}

/** What one signed request needs. `target` is the path and query exactly as sent. */
export interface SignInput {
  key: CryptoKey;
  bearer: string;
  method: string;
  target: string;
  body: Uint8Array;
  timestamp: number;
}

/** The four headers of a signed request (docs/pop.md), with a fresh 16-byte nonce. */
export async function signHeaders(input: SignInput): Promise<Record<string, string>> {
  if (!methodPattern.test(input.method)) throw new InvalidArgumentError('method must be an HTTP method name');
  const timestamp = String(Math.floor(input.timestamp));
  const nonce = encode(crypto.getRandomValues(new Uint8Array(16)));
  const bodyHash = new Uint8Array(await crypto.subtle.digest('SHA-256', input.body as BufferSource));
  const fields = [REQUEST_DOMAIN, utf8.encode(input.method.toUpperCase()), utf8.encode(input.target), utf8.encode(timestamp), utf8.encode(nonce), bodyHash];
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', input.key, canonical(fields) as BufferSource));
  return { authorization: `${BEARER_PREFIX}${input.bearer}`, 'x-ts': timestamp, 'x-nonce': nonce, 'x-pop': encode(mac) };
}
