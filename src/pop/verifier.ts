/**
 * Verifying a signed request on the server. Checks run in the order of
 * DESIGN §2 and each failure has its own `PopError` code: session known →
 * timestamp within the window → nonce not seen before (atomically recorded)
 * → MAC, compared in constant time.
 */
import { type TextOrBytes } from '../bytes';
import { InvalidArgumentError, PopError, fromNative } from '../errors';
import { binding } from '../native';
import { bodyBytes, type PopKey } from './key';
import { methodArg, requestTarget } from './sign';

/** Remembers nonces for a while; `add` is true only for a nonce not seen yet, atomically. */
export interface ReplayCache {
  add(key: string, ttlMs: number): boolean | Promise<boolean>;
}

/** A replay cache for one process. Several instances need a shared one (Redis). */
export class MemoryReplayCache implements ReplayCache {
  readonly #seen = new Map<string, number>();
  readonly #clock: () => number;
  readonly #maxEntries: number;

  constructor(options?: { clock?: () => number; maxEntries?: number }) {
    this.#clock = options?.clock ?? Date.now;
    this.#maxEntries = options?.maxEntries ?? 1_000_000;
  }

  add(key: string, ttlMs: number): boolean {
    const now = this.#clock();
    const until = this.#seen.get(key);
    if (until !== undefined && until > now) return false;
    if (this.#seen.size >= this.#maxEntries) this.#sweep(now);
    // Full of live entries: refuse rather than forget a nonce that may be replayed.
    if (this.#seen.size >= this.#maxEntries) return false;
    this.#seen.set(key, now + ttlMs);
    return true;
  }

  #sweep(now: number): void {
    for (const [key, until] of this.#seen) if (until <= now) this.#seen.delete(key);
  }

  get size(): number {
    return this.#seen.size;
  }
}

export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

export interface RequestToVerify {
  method: string;
  url: string;
  headers: HeaderBag;
  body?: TextOrBytes | null;
}

export interface PopVerifierOptions<S> {
  /** The key (and anything else) of the live session a bearer names, or undefined when unknown, expired or revoked. */
  lookup: (bearer: string) => (S & { popKey: PopKey }) | undefined | Promise<(S & { popKey: PopKey }) | undefined>;
  replayCache?: ReplayCache;
  /** How far a timestamp may be from now, either way; 30 s by default. */
  windowMs?: number;
  clock?: () => number;
}

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? undefined : value;
}

/** Only what is a promise is awaited: a memory store answers at once, and each `await` costs a turn. */
const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as Promise<T>)?.then === 'function';

export class PopVerifier<S = object> {
  readonly #lookup: PopVerifierOptions<S>['lookup'];
  readonly #replay: ReplayCache;
  readonly #window: number;
  readonly #clock: () => number;

  constructor(options: PopVerifierOptions<S>) {
    if (typeof options?.lookup !== 'function') throw new InvalidArgumentError('options.lookup must be a function');
    this.#lookup = options.lookup;
    this.#window = options.windowMs ?? 30_000;
    if (!Number.isSafeInteger(this.#window) || this.#window <= 0) throw new InvalidArgumentError('options.windowMs must be whole ms > 0');
    this.#clock = options.clock ?? Date.now;
    this.#replay = options.replayCache ?? new MemoryReplayCache({ clock: this.#clock });
  }

  /** Resolves to the session when the request proves possession of its key; throws `PopError` otherwise. */
  async verify(request: RequestToVerify): Promise<S & { popKey: PopKey; sessionId: string }> {
    // The bearer may be a session id or a sealed session token; the key's session id is the truth.
    if (typeof request?.headers !== 'object' || request.headers === null) throw new InvalidArgumentError('request.headers must be an object or Headers');
    const authorization = header(request.headers, 'authorization');
    // The bearer's form is checked by whoever looks it up (a token must unseal); here only its place.
    if (authorization === undefined || !authorization.startsWith('Bearer ') || authorization.length > 7 + 4096) {
      throw new PopError('no bearer session id', 'ERR_POP_NO_SESSION');
    }
    const found = this.#lookup(authorization.slice(7));
    const session = isPromise(found) ? await found : found;
    if (session === undefined || session === null) throw new PopError('unknown, expired or revoked session', 'ERR_POP_NO_SESSION');

    const ts = header(request.headers, 'x-ts');
    const timestamp = ts !== undefined && /^\d{1,16}$/.test(ts) ? Number(ts) : Number.NaN;
    if (!Number.isSafeInteger(timestamp) || Math.abs(this.#clock() - timestamp) > this.#window) {
      throw new PopError('the request timestamp is missing or outside the window', 'ERR_POP_STALE');
    }

    const nonce = header(request.headers, 'x-nonce');
    if (nonce === undefined || nonce.length < 8 || nonce.length > 128) throw new PopError('missing or malformed nonce', 'ERR_POP_REPLAY');
    // A nonce only has to be unique while its timestamp is acceptable: twice the window covers both sides.
    const sessionId = session.popKey.sessionId;
    const fresh = this.#replay.add(`${sessionId}:${nonce}`, 2 * this.#window);
    if (!(isPromise(fresh) ? await fresh : fresh)) {
      throw new PopError('this nonce was already used', 'ERR_POP_REPLAY');
    }

    const mac = header(request.headers, 'x-pop');
    let ok = false;
    if (mac !== undefined && mac.length === 43) {
      const parts = `${methodArg(request.method)}\n${requestTarget(request.url)}\n${nonce}\n${mac}`;
      const body = bodyBytes(request.body);
      // Not through call(): this is the hottest path, and a closure per request shows.
      try {
        ok = binding.popVerify(session.popKey.handle, parts, timestamp, body);
      } catch (error) {
        throw fromNative(error);
      }
    }
    if (!ok) throw new PopError('the request signature does not match', 'ERR_POP_BAD_MAC');
    return (session as { sessionId?: string }).sessionId === sessionId ? (session as S & { popKey: PopKey; sessionId: string }) : { ...session, sessionId };
  }
}
