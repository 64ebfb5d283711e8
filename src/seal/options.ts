/** Option checks shared by the sealed-data functions. */

import { optionalTextOrBytes, type TextOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';

/** Milliseconds since the Unix epoch; inject one in tests instead of sleeping. */
export type Clock = () => number;

export interface SealOptions {
  /** Associated data: authenticated, not encrypted; opening needs the same bytes. */
  aad?: TextOrBytes;
  /** Injectable clock (ms since the epoch); `Date.now` by default. */
  clock?: Clock;
}

export interface OpenOptions extends SealOptions {
  /** Maximum age in seconds; older values throw `TimestampExpiredError`. */
  ttl?: number;
}

const empty = new Uint8Array(0);

export function aadOf(options: { aad?: TextOrBytes } | undefined): Uint8Array {
  return optionalTextOrBytes(options?.aad, 'options.aad') ?? empty;
}

/** The injected clock's reading, or `undefined`: then Rust reads the system clock. */
export function nowOf(options: { clock?: Clock } | undefined): number | undefined {
  const clock = options?.clock;
  if (clock === undefined) return undefined;
  if (typeof clock !== 'function') throw new InvalidArgumentError('options.clock must be a function returning ms');
  const now = clock();
  if (!Number.isSafeInteger(now) || now < 0) throw new InvalidArgumentError(`the clock returned ${now}, not whole ms ≥ 0`);
  return now;
}

/** `ttl` in seconds (fractions allowed) → whole milliseconds, or undefined. */
export function ttlMsOf(options: { ttl?: number } | undefined): number | undefined {
  const ttl = options?.ttl;
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) {
    throw new InvalidArgumentError('options.ttl must be a number of seconds ≥ 0');
  }
  return Math.round(ttl * 1000);
}
