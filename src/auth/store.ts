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

/** A session as the account routes show it. No key, no token. */
export interface SessionRecord {
  sessionId: string;
  username: string;
  /** ms since the epoch, for all three. */
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  /** The client address the login started from, when the framework reported one. */
  address?: string;
  /** The User-Agent the login finished with, when there was one (at most 256 characters kept). */
  userAgent?: string;
}

/** A `sessions` row (either store's) as a `SessionRecord`. */
export function sessionRow(row: Record<string, unknown>): SessionRecord {
  const record: SessionRecord = {
    sessionId: String(row.session_id),
    username: String(row.username),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    lastSeenAt: Number(row.last_seen_at),
  };
  if (row.address !== null && row.address !== undefined) record.address = String(row.address);
  if (row.user_agent !== null && row.user_agent !== undefined) record.userAgent = String(row.user_agent);
  return record;
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
  /**
   * Session bookkeeping for the account routes (list, revoke, log out
   * everywhere, delete the account). Optional for stores written before
   * them: without these, those routes answer 501 `ERR_AUTH_UNSUPPORTED`.
   */
  recordSession?(session: SessionRecord): Promise<void>;
  /** The user's sessions that have not expired (at `nowMs`) or been revoked, newest first. */
  listSessions?(username: string, nowMs: number): Promise<SessionRecord[]>;
  /** When a session was last used; called at most once a minute per session and process. */
  touchSession?(sessionId: string, atMs: number): Promise<void>;
  /**
   * A refreshed session's new expiry, with `atMs` as its last use; address,
   * user agent and creation time stay as recorded. False, changing nothing,
   * when no record of `sessionId` belongs to `username`. Without it, a refresh
   * finds the record among the user's listed sessions and records it again.
   */
  extendSession?(sessionId: string, username: string, expiresAt: number, atMs: number): Promise<boolean>;
  /** Removes the user's password file and session records; false if there was no such user. Revoke the sessions first. */
  deleteUser?(username: string): Promise<boolean>;
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
  readonly #sessions = new Map<string, SessionRecord>();
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

  async recordSession(session: SessionRecord) {
    this.#sessions.set(keyArg(session?.sessionId, 'sessionId'), { ...session });
  }

  async listSessions(username: string, nowMs: number) {
    keyArg(username, 'username');
    return [...this.#sessions.values()]
      .filter((s) => s.username === username && s.expiresAt > nowMs)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((s) => ({ ...s }));
  }

  async touchSession(sessionId: string, atMs: number) {
    const session = this.#sessions.get(keyArg(sessionId, 'sessionId'));
    if (session !== undefined) session.lastSeenAt = msArg(atMs, 'atMs');
  }

  async extendSession(sessionId: string, username: string, expiresAt: number, atMs: number) {
    const session = this.#sessions.get(keyArg(sessionId, 'sessionId'));
    keyArg(username, 'username');
    msArg(expiresAt, 'expiresAt');
    msArg(atMs, 'atMs');
    if (session === undefined || session.username !== username) return false;
    session.expiresAt = expiresAt;
    session.lastSeenAt = atMs;
    return true;
  }

  async deleteUser(username: string) {
    keyArg(username, 'username');
    for (const [id, s] of this.#sessions) if (s.username === username) this.#sessions.delete(id);
    return this.#users.delete(username);
  }

  limiter(options: LimiterOptions) {
    limiterArg(options);
    return new RateLimiterMemory({ keyPrefix: options.name, points: options.points, duration: options.duration });
  }

  async revoke(sessionId: string, untilMs: number) {
    this.#revoked.set(keyArg(sessionId, 'sessionId'), msArg(untilMs, 'untilMs'));
    this.#sessions.delete(sessionId);
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
