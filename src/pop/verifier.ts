/**
 * Verifying a signed request on the server. Checks run in the order of
 * DESIGN §2 and each failure has its own `PopError` code: session known →
 * timestamp within the window → nonce not seen before (atomically recorded)
 * → MAC, compared in constant time.
 */
import { type TextOrBytes } from '../bytes';
import { InvalidArgumentError, PopError, fromNative } from '../errors';
import { binding, call } from '../native';
import { bodyBytes, type PopKey } from './key';
import { methodArg, requestTarget } from './sign';

/** Remembers nonces for a while; `add` is true only for a nonce not seen yet, atomically. */
export interface ReplayCache {
  add(key: string, ttlMs: number): boolean | Promise<boolean>;
}

type NativeReplayCache = InstanceType<typeof binding.ReplayCache>;

/**
 * @internal The key under which a replay cache in this process offers its
 * native handle, so that the verifier records nonces in the same native call
 * that checks the MAC, with the verifier's clock.
 */
export const inProcessReplay = Symbol('keyward.inProcessReplay');

/**
 * A replay cache for one process, kept in Rust: a table of 64-bit keyed
 * fingerprints (a replay always matches; a false match can only refuse an
 * honest request), swept as it grows. Several instances need a shared one
 * (Redis).
 */
export class MemoryReplayCache implements ReplayCache {
  readonly #native: NativeReplayCache;
  /** Undefined for the system clock, which Rust reads itself. */
  readonly #clock: (() => number) | undefined;

  constructor(options?: { clock?: () => number; maxEntries?: number }) {
    const maxEntries = options?.maxEntries ?? 1_000_000;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new InvalidArgumentError('options.maxEntries must be a whole number ≥ 1');
    const clock = options?.clock;
    if (clock !== undefined && typeof clock !== 'function') throw new InvalidArgumentError('options.clock must be a function');
    this.#native = call(() => new binding.ReplayCache(maxEntries));
    this.#clock = clock === Date.now ? undefined : clock;
  }

  /** True only for a key not live yet; full of live entries, it refuses rather than forget one. */
  add(key: string, ttlMs: number): boolean {
    if (typeof key !== 'string') throw new InvalidArgumentError('key must be a string');
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 0) throw new InvalidArgumentError('ttlMs must be whole ms ≥ 0');
    return call(() => this.#native.add(key, ttlMs, this.#clock?.()));
  }

  /** Entries held, including expired ones not swept yet. */
  get size(): number {
    return this.#native.size;
  }

  /** @internal */
  get [inProcessReplay](): number {
    return this.#native.handle;
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

/** A header's single value; a repeated header (an array) counts as absent. */
const single = (value: string | string[] | undefined) => (typeof value === 'string' ? value : undefined);

/**
 * The four headers of a signed request. Named property reads, not
 * `headers[name]`: a read by a variable name is a megamorphic lookup, and
 * this runs on every request.
 */
function popHeaders(headers: HeaderBag) {
  if (typeof (headers as Headers).get === 'function') {
    const h = headers as Headers;
    const value = (name: string) => h.get(name) ?? undefined;
    return { authorization: value('authorization'), ts: value('x-ts'), nonce: value('x-nonce'), mac: value('x-pop') };
  }
  const h = headers as Record<string, string | string[] | undefined>;
  return { authorization: single(h.authorization), ts: single(h['x-ts']), nonce: single(h['x-nonce']), mac: single(h['x-pop']) };
}

// As keyward_pop::parse_timestamp: the form the signer sends, no leading zero.
const digits = /^(?:0|[1-9]\d{0,15})$/;

/** What `popVerify` found (crates/node/src/pop.rs). */
const enum Outcome {
  Ok = 0,
  Stale = 1,
  BadNonce = 2,
  Replay = 3,
}

const stale = () => new PopError('the request timestamp is missing or outside the window', 'ERR_POP_STALE');
const badNonce = () => new PopError('missing or malformed nonce', 'ERR_POP_REPLAY');
const replayed = () => new PopError('this nonce was already used', 'ERR_POP_REPLAY');

function refusal(outcome: number): PopError {
  switch (outcome) {
    case Outcome.Stale:
      return stale();
    case Outcome.BadNonce:
      return badNonce();
    case Outcome.Replay:
      return replayed();
    default:
      return new PopError('the request signature does not match', 'ERR_POP_BAD_MAC');
  }
}

/** Only what is a promise is awaited: a memory store answers at once, and each `await` costs a turn. */
const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as Promise<T>)?.then === 'function';

export class PopVerifier<S = object> {
  readonly #lookup: PopVerifierOptions<S>['lookup'];
  readonly #replay: ReplayCache;
  /** The native handle of an in-process replay cache; undefined for a shared one. */
  readonly #inProcess: number | undefined;
  readonly #window: number;
  readonly #clock: () => number;

  constructor(options: PopVerifierOptions<S>) {
    if (typeof options?.lookup !== 'function') throw new InvalidArgumentError('options.lookup must be a function');
    this.#lookup = options.lookup;
    this.#window = options.windowMs ?? 30_000;
    if (!Number.isSafeInteger(this.#window) || this.#window <= 0) throw new InvalidArgumentError('options.windowMs must be whole ms > 0');
    this.#clock = options.clock ?? Date.now;
    this.#replay = options.replayCache ?? new MemoryReplayCache({ clock: this.#clock });
    this.#inProcess = (this.#replay as Partial<Record<typeof inProcessReplay, number>>)[inProcessReplay];
  }

  /** Resolves to the session when the request proves possession of its key; throws `PopError` otherwise. */
  async verify(request: RequestToVerify): Promise<S & { popKey: PopKey; sessionId: string }> {
    // The bearer may be a session id or a sealed session token; the key's session id is the truth.
    // Time, nonce and MAC are checked in Rust (keyward_pop's verify_request), in that order.
    if (typeof request?.headers !== 'object' || request.headers === null) throw new InvalidArgumentError('request.headers must be an object or Headers');
    const { authorization, ts, nonce, mac } = popHeaders(request.headers);
    // The bearer's form is checked by whoever looks it up (a token must unseal); here only its place.
    if (authorization === undefined || !authorization.startsWith('Bearer ') || authorization.length > 7 + 4096) {
      throw new PopError('no bearer session id', 'ERR_POP_NO_SESSION');
    }
    const found = this.#lookup(authorization.slice(7));
    const session = isPromise(found) ? await found : found;
    if (session === undefined || session === null) throw new PopError('unknown, expired or revoked session', 'ERR_POP_NO_SESSION');

    const sessionId = session.popKey.sessionId;
    const inProcess = this.#inProcess;
    const now = inProcess === undefined || this.#clock !== Date.now ? this.#clock() : undefined;
    const malformedNonce = nonce === undefined || nonce.length < 8 || nonce.length > 128 || nonce.includes('\n');
    if (inProcess === undefined) {
      // A cache shared by instances is asked first, so time and form are checked here before it.
      const timestamp = ts !== undefined && digits.test(ts) ? Number(ts) : Number.NaN;
      if (!Number.isSafeInteger(timestamp) || Math.abs(now! - timestamp) > this.#window) throw stale();
      if (malformedNonce) throw badNonce();
      // A nonce only has to be unique while its timestamp is acceptable: twice the window covers both sides.
      const fresh = this.#replay.add(`${sessionId}:${nonce}`, 2 * this.#window);
      if (!(isPromise(fresh) ? await fresh : fresh)) throw replayed();
    }
    // A malformed nonce goes as an empty one: Rust refuses it after the
    // timestamp, and a line break in it cannot move the fields apart.
    const parts = `${sessionId}\n${methodArg(request.method)}\n${requestTarget(request.url)}\n${ts ?? ''}\n${malformedNonce ? '' : nonce}\n${mac ?? ''}`;
    const body = bodyBytes(request.body);
    let outcome: number;
    // Not through call(): this is the hottest path, and a closure per request shows.
    try {
      outcome = binding.popVerify(session.popKey.handle, parts, body, inProcess ?? 0, this.#window, now);
    } catch (error) {
      throw fromNative(error);
    }
    if (outcome !== Outcome.Ok) throw refusal(outcome);
    return (session as { sessionId?: string }).sessionId === sessionId ? (session as S & { popKey: PopKey; sessionId: string }) : { ...session, sessionId };
  }
}
