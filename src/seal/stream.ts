/**
 * Streaming encryption (STREAM over XChaCha20-Poly1305) as Web Streams
 * `TransformStream`s and Node `Transform`s. Reordered, dropped, duplicated,
 * truncated or extended chunks fail with `DecryptionError`; memory stays at
 * about one chunk whatever the input size.
 */
import { Transform } from 'node:stream';
import { type TextOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';
import { keyArg, type SecretKey } from './key';
import { aadOf } from './options';

export interface StreamOptions {
  aad?: TextOrBytes;
  /** Plaintext bytes per chunk, 1 KiB to 16 MiB; 64 KiB by default. Only for sealing. */
  chunkSize?: number;
}

interface Pump {
  push(data: Uint8Array): Uint8Array;
  finish(): Uint8Array;
}

function sealer(key: SecretKey, options?: StreamOptions): Pump {
  const k = keyArg(key);
  const aad = aadOf(options);
  const chunk = options?.chunkSize;
  // The range (1 KiB to 16 MiB) is checked in Rust on the number as given.
  if (chunk !== undefined && typeof chunk !== 'number') throw new InvalidArgumentError('chunkSize must be a number');
  return call(() => new binding.StreamSealer(k, aad, chunk));
}

function opener(key: SecretKey, options?: StreamOptions): Pump {
  const k = keyArg(key);
  const aad = aadOf(options);
  return call(() => new binding.StreamOpener(k, aad));
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
      const out = call(() => pump.finish());
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
        const out = call(() => pump.finish());
        done(null, out.byteLength > 0 ? out : undefined);
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

export function createSealStream(key: SecretKey, options?: StreamOptions): TransformStream<Uint8Array, Uint8Array> {
  return webTransform(sealer(key, options));
}

export function createOpenStream(key: SecretKey, options?: { aad?: TextOrBytes }): TransformStream<Uint8Array, Uint8Array> {
  return webTransform(opener(key, options));
}

/** The Node `stream.Transform` form of `createSealStream`, for `pipeline()`. */
export function createSealTransform(key: SecretKey, options?: StreamOptions): Transform {
  return nodeTransform(sealer(key, options));
}

export function createOpenTransform(key: SecretKey, options?: { aad?: TextOrBytes }): Transform {
  return nodeTransform(opener(key, options));
}
