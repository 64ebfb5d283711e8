/**
 * Streaming encryption (STREAM over XChaCha20-Poly1305) as Web Streams
 * `TransformStream`s and Node `Transform`s. Reordered, dropped, duplicated,
 * truncated or extended chunks fail with `DecryptionError`; memory stays at
 * about one chunk whatever the input size.
 */
import { Transform } from 'node:stream';
import type { TextOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';
import { keyArg, type SecretKey } from './key';
import { aadOf } from './options';

/** Options of the sealing streams; the opening ones take only `aad`. */
export interface StreamOptions {
  /** Authenticated with every chunk, not sent: the opener must pass the same bytes (text is UTF-8). */
  aad?: TextOrBytes;
  /** Plaintext bytes per chunk, 1 KiB to 16 MiB; 64 KiB by default. Only for sealing. */
  chunkSize?: number;
}

/** Pushes a chunk, or finishes the stream with `undefined`. */
interface Pump {
  push(data?: Uint8Array): Uint8Array;
}

function sealer(key: SecretKey, options?: StreamOptions): Pump {
  const k = keyArg(key);
  const aad = aadOf(options);
  const chunk = options?.chunkSize;
  // The range (1 KiB to 16 MiB) is checked in Rust on the number as given.
  if (chunk !== undefined && typeof chunk !== 'number') throw new InvalidArgumentError('chunkSize must be a number');
  return call(() => new binding.StreamCipher(k, aad, true, chunk));
}

function opener(key: SecretKey, options?: StreamOptions): Pump {
  const k = keyArg(key);
  const aad = aadOf(options);
  return call(() => new binding.StreamCipher(k, aad, false));
}

function input(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw new InvalidArgumentError('stream chunks must be Uint8Arrays');
}

function webTransform(pump: Pump): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const out = call(() => pump.push(input(chunk)));
      if (out.byteLength > 0) controller.enqueue(out);
    },
    flush(controller) {
      const out = call(() => pump.push());
      if (out.byteLength > 0) controller.enqueue(out);
    },
  });
}

function nodeTransform(pump: Pump): Transform {
  return new Transform({
    transform(chunk, _encoding, done) {
      try {
        const out = call(() => pump.push(input(chunk)));
        done(null, out.byteLength > 0 ? out : undefined);
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        const out = call(() => pump.push());
        done(null, out.byteLength > 0 ? out : undefined);
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

/**
 * A `TransformStream` that encrypts the bytes written to it into one sealed stream (a header, then
 * `chunkSize` + 16 bytes per chunk). A `chunkSize` out of range throws `InvalidArgumentError` here;
 * a written chunk that is not a Uint8Array errors the stream with it.
 */
export function createSealStream(key: SecretKey, options?: StreamOptions): TransformStream<Uint8Array, Uint8Array> {
  return webTransform(sealer(key, options));
}

/**
 * A `TransformStream` that decrypts what `createSealStream` wrote. Any reordering, loss,
 * duplication, truncation, extension, wrong key or wrong `aad` errors the stream with
 * `DecryptionError`. Earlier chunks are released before the end is known: treat the output as
 * valid only once the stream finished without error.
 */
export function createOpenStream(key: SecretKey, options?: { aad?: TextOrBytes }): TransformStream<Uint8Array, Uint8Array> {
  return webTransform(opener(key, options));
}

/** The Node `stream.Transform` form of `createSealStream`, for `pipeline()`. */
export function createSealTransform(key: SecretKey, options?: StreamOptions): Transform {
  return nodeTransform(sealer(key, options));
}

/** The Node `stream.Transform` form of `createOpenStream`, for `pipeline()`; the same rules. */
export function createOpenTransform(key: SecretKey, options?: { aad?: TextOrBytes }): Transform {
  return nodeTransform(opener(key, options));
}
