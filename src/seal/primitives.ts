/**
 * The raw primitives under the sealed-data formats, for interoperating with
 * other systems. Prefer `seal`/`open`: here the caller manages nonces.
 */

import type * as Binding from '../../native/binding';
import { bytes, optionalTextOrBytes, type TextOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';

/** 24-byte (X) or 12-byte nonces; 32-byte keys; 16-byte tags. */
export type AeadAlgorithm = `${Binding.Aead}`;
export type HashAlgorithm = `${Binding.Hash}`;

const empty = new Uint8Array(0);

/** One of the binding's names for `name`; anything else is an `InvalidArgumentError` that lists them. */
function nameArg<E extends string>(value: unknown, names: Record<string, E>, name: string): E {
  const known: readonly string[] = Object.values(names);
  if (typeof value === 'string' && known.includes(value)) return value as E;
  const given = typeof value === 'string' ? JSON.stringify(value) : `of type ${typeof value}`;
  throw new InvalidArgumentError(`unknown ${name} ${given} (${known.join(', ')})`);
}

/**
 * `ciphertext ‖ tag`; the nonce must never repeat under one key. A key or nonce of
 * the wrong length, or an unknown algorithm, throws `InvalidArgumentError`.
 */
export function aeadEncrypt(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: TextOrBytes): Uint8Array {
  const [k, n, p] = [bytes(key, 'key'), bytes(nonce, 'nonce'), bytes(plaintext, 'plaintext')];
  const a = optionalTextOrBytes(aad, 'aad') ?? empty;
  const alg = nameArg(algorithm, binding.Aead, 'AEAD');
  return call(() => binding.aeadEncrypt(alg, k, n, p, a));
}

/** Throws `DecryptionError` unless `sealed` (`ciphertext ‖ tag`) authenticates. */
export function aeadDecrypt(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: TextOrBytes): Uint8Array {
  const [k, n, s] = [bytes(key, 'key'), bytes(nonce, 'nonce'), bytes(sealed, 'sealed')];
  const a = optionalTextOrBytes(aad, 'aad') ?? empty;
  const alg = nameArg(algorithm, binding.Aead, 'AEAD');
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
  const h = nameArg(hash, binding.Hash, 'hash');
  return call(() => binding.hkdf(h, i, s, f, length));
}

/** HMAC of `message` under `key` (any length); an unknown hash throws `InvalidArgumentError`. */
export function hmac(hash: HashAlgorithm, key: Uint8Array, message: Uint8Array): Uint8Array {
  const [k, m] = [bytes(key, 'key'), bytes(message, 'message')];
  const h = nameArg(hash, binding.Hash, 'hash');
  return call(() => binding.hmac(h, k, m));
}
