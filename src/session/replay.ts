/**
 * Replay guards for Noise_IK message 1. A first message is a self-contained,
 * authenticated packet: without a guard, `Session.respond` accepts a recorded
 * copy again and hands its payload to the application a second time. The
 * guard remembers each accepted message's initiator ephemeral (its first 32
 * bytes after the 2-byte header) for a fixed window (docs/sessions.md,
 * "Replayed first messages").
 */
import { InvalidArgumentError } from '../errors';

/**
 * Remembers keys for a while; `add` is true only for a key not live yet, and
 * must be atomic when several processes share it. The same shape as the PoP
 * `ReplayCache`, so one shared store (Redis `SET key 1 PX ttl NX`) serves
 * both. `Session.respond` asks it only once message 1 authenticated, so only
 * holders of an identity key can add to it, and never with an ephemeral
 * they did not sign for.
 */
export interface ReplayGuard {
  /**
   * Makes `key` live for `ttlMs` ms and returns `true`, or returns `false` when it is live
   * already. A thrown error or rejection is passed on to the caller of `respond`.
   */
  add(key: string, ttlMs: number): boolean | Promise<boolean>;
}

/** How long a first message's ephemeral is remembered by default: 10 minutes. */
export const DEFAULT_HANDSHAKE_REPLAY_WINDOW_MS = 10 * 60_000;
/** The default guard's cap: 100 000 live ephemerals (166 starts a second, sustained, over a 10-minute window). */
export const DEFAULT_REPLAY_GUARD_MAX_ENTRIES = 100_000;

export interface MemoryReplayGuardOptions {
  /**
   * The most keys held at once; `DEFAULT_REPLAY_GUARD_MAX_ENTRIES` by
   * default. At the cap, expired keys go first, then the oldest live one:
   * under a flood the guard covers a shorter window rather than refuse
   * honest starts (size it for your peak rate of starts × the window).
   */
  maxEntries?: number;
  /** Time source, ms since the epoch; the system clock by default. */
  clock?: () => number;
}

/**
 * A replay guard for one process: a table of keys and their expiry, in
 * insertion order, so expired keys are swept from its front as new ones
 * arrive (one insert per accepted start). Bounded by `maxEntries`. Several
 * instances behind one address need a shared guard instead.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #expiry = new Map<string, number>();
  readonly #max: number;
  readonly #clock: () => number;

  /** A `maxEntries` that is not a whole number ≥ 1, or a `clock` that is not a function, throws `InvalidArgumentError`. */
  constructor(options: MemoryReplayGuardOptions = {}) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
    const max = options.maxEntries ?? DEFAULT_REPLAY_GUARD_MAX_ENTRIES;
    if (!Number.isSafeInteger(max) || max < 1) throw new InvalidArgumentError('options.maxEntries must be a whole number ≥ 1');
    const clock = options.clock ?? Date.now;
    if (typeof clock !== 'function') throw new InvalidArgumentError('options.clock must be a function');
    this.#max = max;
    this.#clock = clock;
  }

  /** True only for a key not live yet; it is then live for `ttlMs`. */
  add(key: string, ttlMs: number): boolean {
    if (typeof key !== 'string') throw new InvalidArgumentError('key must be a string');
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 0) throw new InvalidArgumentError('ttlMs must be whole ms ≥ 0');
    const now = this.#clock();
    const table = this.#expiry;
    const seen = table.get(key);
    if (seen !== undefined && seen > now) return false;
    if (seen !== undefined) table.delete(key);
    // Sweep expired keys off the front; at the cap, drop the oldest live one.
    for (const [oldest, expires] of table) {
      if (expires > now && table.size < this.#max) break;
      table.delete(oldest);
    }
    table.set(key, now + ttlMs);
    return true;
  }

  /** Keys held, including expired ones not swept yet. */
  get size(): number {
    return this.#expiry.size;
  }
}

let processGuard: MemoryReplayGuard | undefined;

/** The guard `Session.respond` uses when given none: one per process, created on first use. */
export function defaultReplayGuard(): MemoryReplayGuard {
  processGuard ??= new MemoryReplayGuard();
  return processGuard;
}

/** The guard for `options.replayGuard`: undefined → the process default, false → none. */
export function replayGuardOf(value: unknown): ReplayGuard | undefined {
  if (value === undefined || value === null) return defaultReplayGuard();
  if (value === false) return undefined;
  if (typeof (value as ReplayGuard).add !== 'function') {
    throw new InvalidArgumentError('options.replayGuard must be an object with add(key, ttlMs), or false');
  }
  return value as ReplayGuard;
}

/** The window for `options.replayWindowMs`: 10 minutes when undefined; anything but whole ms > 0 throws `InvalidArgumentError`. */
export function replayWindowOf(value: unknown): number {
  if (value === undefined) return DEFAULT_HANDSHAKE_REPLAY_WINDOW_MS;
  if (!Number.isSafeInteger(value) || (value as number) <= 0) throw new InvalidArgumentError('options.replayWindowMs must be whole ms > 0');
  return value as number;
}

/** The guard's key for an authenticated message 1: its initiator ephemeral. */
export function replayKey(message: Uint8Array): string {
  return `keyward:noise-ik:${Buffer.from(message.buffer, message.byteOffset + 2, 32).toString('base64url')}`;
}
