/** Argument checks and strict base64url, shared by every module. */
import { timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError, SerializationError } from './errors';

export type BytesLike = Uint8Array;
/** Text is encoded as UTF-8; bytes are used as they are. */
export type TextOrBytes = string | Uint8Array;

const encoder = new TextEncoder();

/**
 * A real Uint8Array: `ArrayBuffer.isView` first, because a Proxy around one passes
 * `instanceof` yet is no typed array to Buffer or the binding.
 */
const isBytes = (value: unknown): value is Uint8Array => ArrayBuffer.isView(value) && value instanceof Uint8Array;

export function bytes(value: unknown, name: string): Uint8Array {
  if (isBytes(value)) return value;
  throw new InvalidArgumentError(`${name} must be a Uint8Array`);
}

export function textOrBytes(value: unknown, name: string): Uint8Array {
  if (typeof value === 'string') return encoder.encode(value);
  if (isBytes(value)) return value;
  throw new InvalidArgumentError(`${name} must be a string or a Uint8Array`);
}

export function optionalTextOrBytes(value: unknown, name: string): Uint8Array | undefined {
  return value === undefined || value === null ? undefined : textOrBytes(value, name);
}

const alphabet = /^[A-Za-z0-9_-]*$/;

/** Encodes as base64url without padding (RFC 4648 §5); a non-`Uint8Array` throws `InvalidArgumentError`. */
export function encodeBase64Url(data: Uint8Array): string {
  bytes(data, 'data');
  // A detached view is empty, but Buffer.from refuses its buffer.
  if (data.byteLength === 0) return '';
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64url');
}

/**
 * Decodes base64url strictly: no padding, no `+` or `/`, no whitespace, and no
 * non-zero bits after the last full byte, so every value has one encoding.
 * Throws `SerializationError` (`ERR_OPAQUE_SERIALIZATION`) for text that breaks
 * these rules, `InvalidArgumentError` for a non-string.
 */
export function decodeBase64Url(text: string): Uint8Array {
  if (typeof text !== 'string') throw new InvalidArgumentError('base64url input must be a string');
  if (!alphabet.test(text) || text.length % 4 === 1) {
    throw new SerializationError('invalid base64url: only A-Z a-z 0-9 - _ without padding are allowed');
  }
  const decoded = Buffer.from(text, 'base64url');
  if (decoded.toString('base64url') !== text) {
    throw new SerializationError('invalid base64url: non-canonical trailing bits');
  }
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
}

/** Compares two byte strings in time that depends only on their lengths; a non-`Uint8Array` throws `InvalidArgumentError`. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  bytes(a, 'a');
  bytes(b, 'b');
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
