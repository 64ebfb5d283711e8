/**
 * What the auth service keeps, behind one small interface: password files,
 * rate-limit counters, used nonces and revoked sessions. Nothing here is a
 * password, a password hash or a session key (docs/threat-model.md).
 */
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { inProcessReplay, MemoryReplayCache, type ReplayCache } from '../pop/verifier';

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
    return this.#users.get(username);
  }

  async createUser(username: string, passwordFile: Uint8Array) {
    if (this.#users.has(username)) return false;
    this.#users.set(username, Uint8Array.from(passwordFile));
    return true;
  }

  limiter(options: LimiterOptions) {
    return new RateLimiterMemory({ keyPrefix: options.name, points: options.points, duration: options.duration });
  }

  async revoke(sessionId: string, untilMs: number) {
    this.#revoked.set(sessionId, untilMs);
  }

  isRevoked(sessionId: string) {
    const until = this.#revoked.get(sessionId);
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
