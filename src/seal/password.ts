/**
 * Argon2id password hashes as standard PHC strings. The pepper and the
 * associated data are mixed in as Argon2's secret input and never stored; a
 * hash without them verifies in any Argon2 library.
 */

import type * as Binding from '../../native/binding';
import { optionalTextOrBytes, type TextOrBytes, textOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call, callAsync } from '../native';
import { type Clock, nowOf, ttlMsOf } from './options';

/** Named Argon2id cost sets (see `HashPasswordOptions.preset`). */
export type PasswordPreset = `${Binding.PasswordPreset}`;

/**
 * Argon2id costs; memory in KiB. keyward's maximum is memory 2 GiB (2097152 KiB, the largest
 * preset), 64 iterations and parallelism 16, for hashing and for the costs read from a stored hash.
 */
export interface PasswordParams {
  memory: number;
  iterations: number;
  parallelism: number;
}

/** Options of `hashPassword`; `preset` and `params` exclude each other. */
export interface HashPasswordOptions {
  /** A server-wide secret kept outside the database. */
  pepper?: TextOrBytes;
  /** Context the hash is bound to (for example the user id); needed again to verify. */
  aad?: TextOrBytes;
  /** `owasp` (m=19456 KiB, t=2, p=1; the default), `rfc9106-low-memory`, `rfc9106-high-memory`. */
  preset?: PasswordPreset;
  /** Explicit costs instead of a preset; each a whole number ≥ 1 and within the maximum (see `PasswordParams`), else `InvalidArgumentError`. */
  params?: PasswordParams;
  /** The time written into the hash (ms since the epoch), for `ttl` checks; `Date.now` by default. */
  clock?: Clock;
}

/** Options of `verifyPassword`: the `pepper` and `aad` the hash was made with. */
export interface VerifyPasswordOptions {
  /** The pepper given to `hashPassword`; a different one verifies as `false`. */
  pepper?: TextOrBytes;
  /** The `aad` given to `hashPassword`; a different one verifies as `false`. */
  aad?: TextOrBytes;
  /** Seconds: a matching hash older than this throws `TimestampExpiredError`. */
  ttl?: number;
  /** The current time for `ttl` (ms since the epoch); `Date.now` by default. */
  clock?: Clock;
}

const presets: readonly string[] = Object.values(binding.PasswordPreset);

function presetArg(preset: unknown): Binding.PasswordPreset | undefined {
  if (preset === undefined || (typeof preset === 'string' && presets.includes(preset))) return preset as Binding.PasswordPreset | undefined;
  const given = typeof preset === 'string' ? JSON.stringify(preset) : `of type ${typeof preset}`;
  throw new InvalidArgumentError(`unknown password preset ${given} (${presets.join(', ')})`);
}

function costs(options: { preset?: PasswordPreset; params?: PasswordParams } | undefined) {
  if (options?.preset !== undefined && options.params !== undefined) {
    throw new InvalidArgumentError('give options.preset or options.params, not both');
  }
  const p = options?.params;
  if (p === undefined) return { preset: presetArg(options?.preset) };
  if (typeof p !== 'object' || p === null) throw new InvalidArgumentError('params must be an object { memory, iterations, parallelism }');
  // Only the type is checked here: the range (a whole number from 1 to 2^32 − 1) is the core's
  // (`PasswordParams::preset_or_numbers`), which refuses with the same class and code. A non-number
  // must stop here: napi-rs would refuse it untyped, and three missing costs mean the default preset.
  for (const name of ['memory', 'iterations', 'parallelism'] as const) {
    if (typeof p[name] !== 'number') throw new InvalidArgumentError(`params.${name} must be a number`);
  }
  return { memory: p.memory, iterations: p.iterations, parallelism: p.parallelism };
}

function nativeOptions(options: (HashPasswordOptions & VerifyPasswordOptions) | undefined) {
  return {
    pepper: optionalTextOrBytes(options?.pepper, 'options.pepper'),
    aad: optionalTextOrBytes(options?.aad, 'options.aad'),
    ttlMs: ttlMsOf(options),
    ...costs(options),
  };
}

function hashArg(hash: unknown): string {
  if (typeof hash !== 'string') throw new InvalidArgumentError('hash must be a PHC string');
  return hash;
}

/** A verification's checked arguments, in the order they are checked, shared by the async and sync forms. */
function verifyArgs(hash: unknown, password: TextOrBytes, options: VerifyPasswordOptions | undefined) {
  return [hashArg(hash), textOrBytes(password, 'password'), nativeOptions(options), nowOf(options)] as const;
}

/**
 * Hashes with Argon2id on the libuv pool into a PHC string. Rejects with
 * `InvalidArgumentError` for bad options (both `preset` and `params`, a cost of 0).
 * @example const hash = await hashPassword(pw, { pepper: process.env.PEPPER });
 */
export function hashPassword(password: TextOrBytes, options?: HashPasswordOptions): Promise<string> {
  const pw = textOrBytes(password, 'password');
  const now = nowOf(options);
  // Inside: bad options reject, as documented, rather than throw.
  return callAsync(() => binding.hashPassword(pw, nativeOptions(options), now));
}

/** `hashPassword` on the calling thread: blocks the event loop for the whole hash. */
export function hashPasswordSync(password: TextOrBytes, options?: HashPasswordOptions): string {
  const pw = textOrBytes(password, 'password');
  const o = nativeOptions(options);
  const now = nowOf(options);
  return call(() => binding.hashPasswordSync(pw, o, now));
}

/**
 * Resolves `false` for a wrong password, pepper or aad; rejects with `FormatError`
 * (`ERR_FORMAT`) for a malformed hash or one whose costs are above keyward's maximum (see
 * `PasswordParams`: a tampered row cannot make a login allocate what it says), and
 * `TimestampExpiredError` for a matching hash older than `ttl`. Runs on the libuv pool.
 */
export function verifyPassword(hash: string, password: TextOrBytes, options?: VerifyPasswordOptions): Promise<boolean> {
  const [h, pw, o, now] = verifyArgs(hash, password, options);
  return callAsync(() => binding.verifyPassword(h, pw, o, now));
}

/** `verifyPassword` on the calling thread: blocks the event loop for the whole hash. */
export function verifyPasswordSync(hash: string, password: TextOrBytes, options?: VerifyPasswordOptions): boolean {
  const [h, pw, o, now] = verifyArgs(hash, password, options);
  return call(() => binding.verifyPasswordSync(h, pw, o, now));
}

/** True when `hash` used other costs than `params` (default: the `owasp` preset). */
export function needsRehash(hash: string, params?: PasswordParams | PasswordPreset): boolean {
  const h = hashArg(hash);
  const o = typeof params === 'string' ? { preset: presetArg(params) } : costs(params === undefined ? undefined : { params });
  return call(() => binding.needsRehash(h, o));
}
