/**
 * Sealed boxes (XChaCha20-Poly1305, random nonce, authenticated timestamp)
 * and their JSON and URL-safe token forms.
 */
import { bytes, decodeBase64Url, encodeBase64Url, type TextOrBytes, textOrBytes } from '../bytes';
import { DecryptionError, InvalidArgumentError, SerializationError } from '../errors';
import { binding, call } from '../native';
import { keyHandle, type SecretKey } from './key';
import { aadOf, nowOf, type OpenOptions, type SealOptions, ttlMsOf } from './options';
import { unshared } from './shared';

const OVERHEAD = binding.BOX_OVERHEAD;

/**
 * Encrypts `data` (text is UTF-8) with `key`; the box carries the time of sealing
 * and is `data.byteLength` + `BOX_OVERHEAD` bytes. Throws `InvalidArgumentError` for a
 * wrong argument type, `InvalidStateError` for a disposed key.
 */
export function seal(key: SecretKey, data: TextOrBytes, options?: SealOptions): Uint8Array {
  const k = keyHandle(key);
  // Shared memory is copied first (see `shared.ts`).
  const plaintext = unshared(textOrBytes(data, 'data'));
  const aad = unshared(aadOf(options));
  const now = nowOf(options);
  // Small boxes come from Node's buffer pool; a box holds nothing secret.
  const box = Buffer.allocUnsafe(plaintext.byteLength + OVERHEAD);
  call(() => binding.sealBoxInto(k, plaintext, aad, now, box));
  return box;
}

/**
 * Decrypts a box. Wrong key, wrong `aad` or any changed bit throws
 * `DecryptionError`; a box older than `ttl` seconds throws `TimestampExpiredError`.
 */
export function open(key: SecretKey, box: Uint8Array, options?: OpenOptions): Uint8Array {
  const k = keyHandle(key);
  const sealed = unshared(bytes(box, 'box'));
  const aad = unshared(aadOf(options));
  const ttl = ttlMsOf(options);
  // The clock matters only for a ttl.
  const now = ttl === undefined ? 0 : nowOf(options);
  if (box.byteLength < OVERHEAD) throw new DecryptionError('decryption failed: too short to be a sealed box');
  // Plaintext gets memory of its own, never a slice of the shared pool.
  const plaintext = Buffer.allocUnsafeSlow(sealed.byteLength - OVERHEAD);
  call(() => binding.openBoxInto(k, sealed, aad, ttl, now, plaintext));
  return plaintext;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** `seal` of `JSON.stringify(value)`; a value JSON cannot represent throws `InvalidArgumentError`. */
export function sealJson(key: SecretKey, value: unknown, options?: SealOptions): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // a bigint, a cycle, or a throwing toJSON
    throw new InvalidArgumentError('value is not representable as JSON');
  }
  if (text === undefined) throw new InvalidArgumentError('value is not representable as JSON');
  return seal(key, text, options);
}

/** `open`, then `JSON.parse` of the UTF-8 plaintext; the result is not validated against `T`. */
export function openJson<T = unknown>(key: SecretKey, box: Uint8Array, options?: OpenOptions): T {
  return JSON.parse(decoder.decode(open(key, box, options))) as T;
}

/** A sealed box as a URL-safe base64url string. */
export function makeToken(key: SecretKey, data: TextOrBytes, options?: SealOptions): string {
  return encodeBase64Url(seal(key, data, options));
}

/** Opens a token; a string that is not base64url throws `DecryptionError` like any tampering. */
export function readToken(key: SecretKey, token: string, options?: OpenOptions): Uint8Array {
  if (typeof token !== 'string') throw new InvalidArgumentError('token must be a string');
  let box: Uint8Array;
  try {
    box = decodeBase64Url(token);
  } catch (error) {
    if (error instanceof SerializationError) throw new DecryptionError('the token is not base64url');
    throw error;
  }
  return open(key, box, options);
}
