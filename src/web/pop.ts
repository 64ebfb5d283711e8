/**
 * Proof of possession with WebCrypto: the key derivation and the request MAC
 * of docs/pop.md, byte for byte what `crates/pop` computes (the server checks
 * every request this module signs, and the browser tests run them against it).
 * The derived key is a non-extractable `CryptoKey`: script on the page can
 * use it while the page lives but cannot read its bytes.
 */

import { InvalidArgumentError } from '../errors';
import { encode } from './base64url';
import {
  POP_BEARER_PREFIX,
  POP_DERIVE_INFO,
  POP_KEY_BYTES,
  POP_NONCE_MAX_BYTES,
  POP_NONCE_MIN_BYTES,
  POP_REQUEST_DOMAIN,
  POP_RFC9421_ALG,
  POP_RFC9421_DIGEST_ALG,
  POP_RFC9421_LABEL,
} from './constants.generated';

const utf8 = new TextEncoder();
const DERIVE_INFO = utf8.encode(POP_DERIVE_INFO);
const REQUEST_DOMAIN = utf8.encode(POP_REQUEST_DOMAIN);
const methodPattern = /^[A-Za-z]{1,16}$/;

/**
 * `HKDF-SHA256(ikm = sessionKey, salt = UTF-8(sessionId), info = "keyward pop v1")`
 * as an HMAC-SHA256 signing key that cannot be exported.
 */
export async function derivePopKey(sessionKey: Uint8Array, sessionId: string): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', sessionKey as BufferSource, 'HKDF', false, ['deriveKey']);
  const params = { name: 'HKDF', hash: 'SHA-256', salt: utf8.encode(sessionId), info: DERIVE_INFO };
  return crypto.subtle.deriveKey(params, ikm, { name: 'HMAC', hash: 'SHA-256', length: POP_KEY_BYTES * 8 }, false, ['sign']);
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
  /** A fresh 16-byte nonce (base64url) by default; for test vectors only. */
  nonce?: string;
}

/** The four headers of a signed request (docs/pop.md), with a fresh 16-byte nonce. */
export async function signHeaders(input: SignInput): Promise<Record<string, string>> {
  if (!methodPattern.test(input.method)) throw new InvalidArgumentError('method must be an HTTP method name');
  const timestamp = String(Math.floor(input.timestamp));
  const nonce = input.nonce ?? encode(crypto.getRandomValues(new Uint8Array(16)));
  const bodyHash = new Uint8Array(await crypto.subtle.digest('SHA-256', input.body as BufferSource));
  const fields = [REQUEST_DOMAIN, utf8.encode(input.method.toUpperCase()), utf8.encode(input.target), utf8.encode(timestamp), utf8.encode(nonce), bodyHash];
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', input.key, canonical(fields) as BufferSource));
  return { authorization: `${POP_BEARER_PREFIX}${input.bearer}`, 'x-ts': timestamp, 'x-nonce': nonce, 'x-pop': encode(mac) };
}

/** What one RFC 9421 signed request needs. `url` is the full URL as fetch sends it. */
export interface SignRfc9421Input {
  key: CryptoKey;
  bearer: string;
  /** The session id: the signature's `keyid`. */
  keyId: string;
  method: string;
  url: URL;
  body: Uint8Array;
  /** ms since the epoch; sent as `created`, in whole seconds. */
  timestamp: number;
  /** `@path` and `@query` instead of `@target-uri`; false by default. */
  pathAndQuery?: boolean;
  /** A fresh 16-byte nonce (base64url) by default; for test vectors only. */
  nonce?: string;
}

const printable = /^[\x20-\x7e]*$/;
const visible = new RegExp(`^[\\x21-\\x7e]{${POP_NONCE_MIN_BYTES},${POP_NONCE_MAX_BYTES}}$`);

/** An RFC 8941 sf-string: printable ASCII, with `"` and `\` escaped. */
function sfString(text: string): string {
  if (!printable.test(text)) throw new InvalidArgumentError('a signature parameter must be printable ASCII');
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Standard base64 with padding, as an RFC 8941 byte sequence carries it. */
function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The headers of keyward's RFC 9421 profile (docs/pop.md, "RFC 9421 profile"), byte for byte
 * what `crates/pop/src/rfc9421.rs` makes: one `pop` signature, `hmac-sha256` under the PoP key,
 * over `@method`, `@target-uri` (or `@path` and `@query`) and, with a body, `content-digest`.
 */
export async function signRfc9421Headers(input: SignRfc9421Input): Promise<Record<string, string>> {
  if (!methodPattern.test(input.method)) throw new InvalidArgumentError('method must be an HTTP method name');
  const nonce = input.nonce ?? encode(crypto.getRandomValues(new Uint8Array(16)));
  if (!visible.test(nonce)) throw new InvalidArgumentError(`the nonce must be ${POP_NONCE_MIN_BYTES}–${POP_NONCE_MAX_BYTES} bytes of visible ASCII`);
  const target = `${input.url.pathname}${input.url.search}`;
  const query = input.url.search === '' ? '?' : input.url.search;
  const lines: [string, string][] = [['@method', input.method]];
  if (input.pathAndQuery === true) lines.push(['@path', input.url.pathname || '/'], ['@query', query]);
  else lines.push(['@target-uri', `${input.url.origin}${target}`]);
  const headers: Record<string, string> = { authorization: `${POP_BEARER_PREFIX}${input.bearer}` };
  if (input.body.length > 0) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input.body as BufferSource));
    headers['content-digest'] = `${POP_RFC9421_DIGEST_ALG}=:${base64(digest)}:`;
    lines.push(['content-digest', headers['content-digest']]);
  }
  for (const [, value] of lines) if (!printable.test(value)) throw new InvalidArgumentError('the method and URL must be printable ASCII');
  const created = Math.floor(input.timestamp / 1000);
  const params = `(${lines.map(([name]) => `"${name}"`).join(' ')});created=${created};keyid=${sfString(input.keyId)};nonce=${sfString(nonce)};alg="${POP_RFC9421_ALG}"`;
  const base = `${lines.map(([name, value]) => `"${name}": ${value}\n`).join('')}"@signature-params": ${params}`;
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', input.key, utf8.encode(base) as BufferSource));
  headers['signature-input'] = `${POP_RFC9421_LABEL}=${params}`;
  headers.signature = `${POP_RFC9421_LABEL}=:${base64(mac)}:`;
  return headers;
}
