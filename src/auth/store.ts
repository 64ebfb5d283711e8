/**
 * What the auth service keeps, behind one small interface: password files,
 * rate-limit counters, used nonces and revoked sessions. Nothing here is a
 * password, a password hash or a session key (docs/threat-model.md).
 */
import { type RateLimiterAbstract, RateLimiterMemory } from 'rate-limiter-flexible';
import { InvalidArgumentError } from '../errors';
import { inProcessReplay, MemoryReplayCache, type ReplayCache } from '../pop/verifier';

/** @internal A store's string key (a username, a session id), checked before it reaches a map or SQL. */
export function keyArg(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${name} must be a string`);
  return value;
}

/** @internal Whole ms ≥ 0. */
export function msArg(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new InvalidArgumentError(`${name} must be whole ms ≥ 0`);
  return value as number;
}

/** @internal A record's bytes. */
export function recordArg(value: unknown): Uint8Array {
  if (!(ArrayBuffer.isView(value) && value instanceof Uint8Array)) throw new InvalidArgumentError('passwordFile must be a Uint8Array');
  return value;
}

/** @internal The limiter options of `AuthStore.limiter`. */
export function limiterArg(options: unknown): LimiterOptions {
  const o = options as LimiterOptions;
  if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || !/^[a-z_]+$/.test(o.name)) {
    throw new InvalidArgumentError('a limiter needs a name of [a-z_]+');
  }
  for (const field of ['points', 'duration'] as const) {
    if (!Number.isSafeInteger(o[field]) || o[field] <= 0) throw new InvalidArgumentError(`limiter ${field} must be a whole number > 0`);
  }
  return o;
}

/** One set of rate counters (rate-limiter-flexible's terms). */
export interface LimiterOptions {
  /** Names the set: `[a-z_]+`; two sets never share a key. */
  name: string;
  /** What the limiter allows per key within `duration`. */
  points: number;
  /** Whole seconds (Redis keeps expiries in seconds); counters reset this long after a key's first point. */
  duration: number;
}

export interface AuthStore extends ReplayCache {
  /** The serialized password file (`ServerRegistration.serialize()`), or undefined. */
  getPasswordFile(username: string): Promise<Uint8Array | undefined>;
  /** Stores a new user's password file; false if the name is taken (atomically). */
  createUser(username: string, passwordFile: Uint8Array): Promise<boolean>;
  /**
   * Replaces an existing user's password file (a password change); false if
   * there is no such user. Optional for stores written before password
   * changes: without it, changing a password fails with `ERR_AUTH_UNSUPPORTED`.
   */
  setPasswordFile?(username: string, passwordFile: Uint8Array): Promise<boolean>;
  /**
   * A rate limiter whose counters live where the store keeps state, so
   * every instance sharing the store shares them. Called once per set, at
   * service creation.
   */
  limiter(options: LimiterOptions): RateLimiterAbstract;
  /** Marks a session revoked until it would have expired anyway. */
  revoke(sessionId: string, untilMs: number): Promise<void>;
  /** May answer synchronously (a memory store does): the verifier awaits only promises. */
  isRevoked(sessionId: string): boolean | Promise<boolean>;
  close?(): Promise<void>;
}

/** Everything in process memory: for tests and single-process demos. Its limiters keep real time (rate-limiter-flexible's clock). */
export class MemoryStore implements AuthStore {
  readonly #users = new Map<string, Uint8Array>();
  readonly #revoked = new Map<string, number>();
  readonly #replay: MemoryReplayCache;
  readonly #clock: () => number;

  /** `clock` (ms since the epoch) decides revocation and nonce expiry; `Date.now` by default. */
  constructor(options?: { clock?: () => number }) {
    this.#clock = options?.clock ?? Date.now;
    this.#replay = new MemoryReplayCache({ clock: this.#clock });
  }

  async getPasswordFile(username: string) {
    return this.#users.get(keyArg(username, 'username'));
  }

  async createUser(username: string, passwordFile: Uint8Array) {
    keyArg(username, 'username');
    const record = recordArg(passwordFile);
    if (this.#users.has(username)) return false;
    // A detached view is empty, and Uint8Array.from refuses it.
    this.#users.set(username, record.byteLength === 0 ? new Uint8Array(0) : Uint8Array.from(record));
    return true;
  }

  async setPasswordFile(username: string, passwordFile: Uint8Array) {
    keyArg(username, 'username');
    const record = recordArg(passwordFile);
    if (!this.#users.has(username)) return false;
    this.#users.set(username, record.byteLength === 0 ? new Uint8Array(0) : Uint8Array.from(record));
    return true;
  }

  limiter(options: LimiterOptions) {
    limiterArg(options);
    return new RateLimiterMemory({ keyPrefix: options.name, points: options.points, duration: options.duration });
  }

  async revoke(sessionId: string, untilMs: number) {
    this.#revoked.set(keyArg(sessionId, 'sessionId'), msArg(untilMs, 'untilMs'));
  }

  isRevoked(sessionId: string) {
    const until = this.#revoked.get(keyArg(sessionId, 'sessionId'));
    return until !== undefined && until > this.#clock();
  }

  add(key: string, ttlMs: number) {
    return this.#replay.add(key, ttlMs);
  }

  /** @internal Nonces go straight to the native cache, in the verifier's one call. */
  get [inProcessReplay]() {
    return this.#replay[inProcessReplay];
  }
}
