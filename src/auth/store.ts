/**
 * What the auth service keeps, behind one small interface: password files,
 * rate-limit counters, used nonces and revoked sessions. Nothing here is a
 * password, a password hash or a session key (docs/threat-model.md).
 */
import { inProcessReplay, MemoryReplayCache, type ReplayCache } from '../pop/verifier';

export interface AuthStore extends ReplayCache {
  /** The serialized password file (`ServerRegistration.serialize()`), or undefined. */
  getPasswordFile(username: string): Promise<Uint8Array | undefined>;
  /** Stores a new user's password file; false if the name is taken (atomically). */
  createUser(username: string, passwordFile: Uint8Array): Promise<boolean>;
  /** Counts one attempt under `key` and returns the count within the current window. */
  hit(key: string, windowMs: number): Promise<number>;
  /** Marks a session revoked until it would have expired anyway. */
  revoke(sessionId: string, untilMs: number): Promise<void>;
  /** May answer synchronously (a memory store does): the verifier awaits only promises. */
  isRevoked(sessionId: string): boolean | Promise<boolean>;
  close?(): Promise<void>;
}

/** Everything in process memory: for tests and single-process demos. */
export class MemoryStore implements AuthStore {
  readonly #users = new Map<string, Uint8Array>();
  readonly #hits = new Map<string, { count: number; until: number }>();
  readonly #revoked = new Map<string, number>();
  readonly #replay: MemoryReplayCache;
  readonly #clock: () => number;

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

  async hit(key: string, windowMs: number) {
    const now = this.#clock();
    const entry = this.#hits.get(key);
    if (entry === undefined || entry.until <= now) {
      this.#hits.set(key, { count: 1, until: now + windowMs });
      return 1;
    }
    entry.count += 1;
    return entry.count;
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
