/**
 * Argon2id password hashes as standard PHC strings. The pepper and the
 * associated data are mixed in as Argon2's secret input and never stored; a
 * hash without them verifies in any Argon2 library.
 */
import { optionalTextOrBytes, textOrBytes, type TextOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call, callAsync } from '../native';
import { nowOf, ttlMsOf, type Clock } from './options';

export type PasswordPreset = 'owasp' | 'rfc9106-low-memory' | 'rfc9106-high-memory';

/** Argon2id costs; memory in KiB. */
export interface PasswordParams {
  memory: number;
  iterations: number;
  parallelism: number;
}

export interface HashPasswordOptions {
  /** A server-wide secret kept outside the database. */
  pepper?: TextOrBytes;
  /** Context the hash is bound to (for example the user id); needed again to verify. */
  aad?: TextOrBytes;
  /** `owasp` (m=19456 KiB, t=2, p=1; the default), `rfc9106-low-memory`, `rfc9106-high-memory`. */
  preset?: PasswordPreset;
  params?: PasswordParams;
  clock?: Clock;
}

export interface VerifyPasswordOptions {
  pepper?: TextOrBytes;
  aad?: TextOrBytes;
  /** Seconds: a matching hash older than this throws `TimestampExpiredError`. */
  ttl?: number;
  clock?: Clock;
}

function costs(options: { preset?: PasswordPreset; params?: PasswordParams } | undefined) {
  if (options?.preset !== undefined && options.params !== undefined) {
    throw new InvalidArgumentError('give options.preset or options.params, not both');
  }
  const p = options?.params;
  if (p === undefined) return { preset: options?.preset };
  for (const name of ['memory', 'iterations', 'parallelism'] as const) {
    if (!Number.isInteger(p[name]) || p[name] < 1 || p[name] > 0xffffffff) {
      throw new InvalidArgumentError(`params.${name} must be a whole number ≥ 1`);
    }
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

/** Hashes on the thread pool; the event loop stays free. */
export function hashPassword(password: TextOrBytes, options?: HashPasswordOptions): Promise<string> {
  const pw = textOrBytes(password, 'password');
  const o = nativeOptions(options);
  const now = nowOf(options);
  return callAsync(() => binding.hashPassword(pw, o, now));
}

export function hashPasswordSync(password: TextOrBytes, options?: HashPasswordOptions): string {
  const pw = textOrBytes(password, 'password');
  const o = nativeOptions(options);
  const now = nowOf(options);
  return call(() => binding.hashPasswordSync(pw, o, now));
}

/** `false` for a wrong password, pepper or aad; throws `FormatError` for a malformed hash. */
export function verifyPassword(hash: string, password: TextOrBytes, options?: VerifyPasswordOptions): Promise<boolean> {
  const h = hashArg(hash);
  const pw = textOrBytes(password, 'password');
  const o = nativeOptions(options);
  const now = nowOf(options);
  return callAsync(() => binding.verifyPassword(h, pw, o, now));
}

export function verifyPasswordSync(hash: string, password: TextOrBytes, options?: VerifyPasswordOptions): boolean {
  const h = hashArg(hash);
  const pw = textOrBytes(password, 'password');
  const o = nativeOptions(options);
  const now = nowOf(options);
  return call(() => binding.verifyPasswordSync(h, pw, o, now));
}

/** True when `hash` used other costs than `params` (default: the `owasp` preset). */
export function needsRehash(hash: string, params?: PasswordParams | PasswordPreset): boolean {
  const h = hashArg(hash);
  const o = typeof params === 'string' ? { preset: params } : costs(params === undefined ? undefined : { params });
  return call(() => binding.needsRehash(h, o));
}
