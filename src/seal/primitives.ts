/**
 * The raw primitives under the sealed-data formats, for interoperating with
 * other systems. Prefer `seal`/`open`: here the caller manages nonces.
 */
import { bytes, optionalTextOrBytes, type TextOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';

/** 24-byte (X) or 12-byte nonces; 32-byte keys; 16-byte tags. */
export type AeadAlgorithm = 'xchacha20-poly1305' | 'chacha20-poly1305';
export type HashAlgorithm = 'sha256' | 'sha512';

const empty = new Uint8Array(0);

/** The algorithm name must be a string before the binding sees it (its own conversion error is untyped). */
function nameArg(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${name} must be a string`);
  return value;
}

/**
 * `ciphertext ‖ tag`; the nonce must never repeat under one key. A key or nonce of
 * the wrong length, or an unknown algorithm, throws `InvalidArgumentError`.
 */
export function aeadEncrypt(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: TextOrBytes): Uint8Array {
  const [k, n, p] = [bytes(key, 'key'), bytes(nonce, 'nonce'), bytes(plaintext, 'plaintext')];
  const a = optionalTextOrBytes(aad, 'aad') ?? empty;
  const alg = nameArg(algorithm, 'algorithm');
  return call(() => binding.aeadEncrypt(alg, k, n, p, a));
}

/** Throws `DecryptionError` unless `sealed` (`ciphertext ‖ tag`) authenticates. */
export function aeadDecrypt(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: TextOrBytes): Uint8Array {
  const [k, n, s] = [bytes(key, 'key'), bytes(nonce, 'nonce'), bytes(sealed, 'sealed')];
  const a = optionalTextOrBytes(aad, 'aad') ?? empty;
  const alg = nameArg(algorithm, 'algorithm');
  return call(() => binding.aeadDecrypt(alg, k, n, s, a));
}

/**
 * HKDF (RFC 5869). `length` is a whole number from 0 to 255 hash lengths
 * (8160 for SHA-256, 16320 for SHA-512); anything else throws
 * `InvalidArgumentError` before any memory is allocated.
 */
export function hkdf(hash: HashAlgorithm, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  // The range is checked in Rust, on the number as given (never wrapped to 32 bits).
  if (typeof length !== 'number') throw new InvalidArgumentError('length must be a number');
  const [i, s, f] = [bytes(ikm, 'ikm'), bytes(salt, 'salt'), bytes(info, 'info')];
  const h = nameArg(hash, 'hash');
  return call(() => binding.hkdf(h, i, s, f, length));
}

/** HMAC of `message` under `key` (any length); an unknown hash throws `InvalidArgumentError`. */
export function hmac(hash: HashAlgorithm, key: Uint8Array, message: Uint8Array): Uint8Array {
  const [k, m] = [bytes(key, 'key'), bytes(message, 'message')];
  const h = nameArg(hash, 'hash');
  return call(() => binding.hmac(h, k, m));
}
