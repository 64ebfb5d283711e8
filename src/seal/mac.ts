/** Keyed MACs (HMAC-SHA-512) over a canonical, length-prefixed list of parts. */
import { type TextOrBytes, textOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';
import { keyArg, type SecretKey } from './key';
import { aadOf } from './options';

function partsOf(parts: unknown): Uint8Array[] {
  if (!Array.isArray(parts)) throw new InvalidArgumentError('parts must be an array of strings or Uint8Arrays');
  return parts.map((p, i) => textOrBytes(p, `parts[${i}]`));
}

/**
 * The 64-byte HMAC-SHA-512 tag of `parts` (text is UTF-8) and `options.aad`, under the key's own
 * MAC subkey; `["ab", "c"]` and `["a", "bc"]` get different tags.
 */
export function mac(key: SecretKey, parts: TextOrBytes[], options?: { aad?: TextOrBytes }): Uint8Array {
  const k = keyArg(key);
  const p = partsOf(parts);
  const aad = aadOf(options);
  return call(() => binding.mac(k, p, aad));
}

/**
 * Checks `tag` in constant time against the same `parts` and `aad`; a mismatch, or a tag of any
 * other length, throws `InvalidMacError` (`ERR_INVALID_MAC`).
 */
export function verifyMac(key: SecretKey, parts: TextOrBytes[], tag: Uint8Array, options?: { aad?: TextOrBytes }): void {
  const k = keyArg(key);
  const p = partsOf(parts);
  if (!(tag instanceof Uint8Array)) throw new InvalidArgumentError('tag must be a Uint8Array');
  const aad = aadOf(options);
  call(() => binding.verifyMac(k, p, aad, tag));
}
