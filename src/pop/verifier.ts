/**
 * Verifying a signed request on the server. Checks run in the order of
 * docs/pop.md and each failure has its own `PopError` code: session known →
 * timestamp within the window → nonce well-formed → MAC, compared in
 * constant time → and only then the nonce is recorded (atomically), so that
 * requests nobody signed neither fill the replay cache nor spend a nonce.
 * The headers are parsed by keyward_pop's one grammar, in Rust.
 */
import type { TextOrBytes } from '../bytes';
import { fromNative, InvalidArgumentError, PopError, type PopErrorCode } from '../errors';
import { binding, call } from '../native';
import { bodyBytes, type PopKey } from './key';
import { methodArg, requestTarget } from './sign';

/**
 * Remembers nonces for a while; `add` is true only for a key not seen yet,
 * atomically. The verifier asks it only once a request's MAC verified, so
 * only holders of a live session's key can add to it.
 */
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

/** Options of `MemoryReplayCache`. */
export interface MemoryReplayCacheOptions {
  /** Time source, ms since the epoch; the system clock by default. */
  clock?: () => number;
  /**
   * The live nonces one session may hold (each lives twice the verifier's
   * window); 100 000 by default, which is 1 666 requests a second, sustained,
   * for one session with the default 30 s window. A session over it gets `ERR_POP_RATE_LIMITED`
   * until some of its nonces expire; other sessions are not affected.
   */
  maxNoncesPerSession?: number;
}

/**
 * A replay cache for one process, kept in Rust: a table of 64-bit keyed
 * fingerprints (a replay always matches; a false match can only refuse an
 * honest request). It has no size limit: it grows with the load, forgets a
 * key only once it expired (swept as the table doubles), and is bounded by
 * who can add to it: the verifier records a nonce only after its MAC
 * verified, and bounds each session's live nonces (`maxNoncesPerSession`).
 * Several instances need a shared one (Redis).
 */
export class MemoryReplayCache implements ReplayCache {
  readonly #native: NativeReplayCache;
  /** Undefined for the system clock, which Rust reads itself. */
  readonly #clock: (() => number) | undefined;

  /** A bad `maxNoncesPerSession` or a non-function `clock` throws `InvalidArgumentError`. */
  constructor(options?: MemoryReplayCacheOptions) {
    const perSession = options?.maxNoncesPerSession ?? binding.POP_DEFAULT_MAX_NONCES_PER_SESSION;
    // The range is keyward_pop's (LARGEST_MAX_PER_SCOPE), checked by the binding.
    if (typeof perSession !== 'number') throw new InvalidArgumentError('options.maxNoncesPerSession must be a number');
    const clock = options?.clock;
    if (clock !== undefined && typeof clock !== 'function') throw new InvalidArgumentError('options.clock must be a function');
    this.#native = call(() => new binding.ReplayCache(perSession));
    this.#clock = clock === Date.now ? undefined : clock;
  }

  /**
   * True only for a key not live yet; it is then live for `ttlMs`. Never
   * refuses for want of room. Keys added here (login states) are not
   * counted against a session: only the verifier's nonces are.
   */
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

/** Request headers: a fetch `Headers`, or Node's lower-cased header record. */
export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

/** A received request, as `PopVerifier.verify` needs it. */
export interface RequestToVerify {
  /** The request method as received. */
  method: string;
  /** The request target exactly as received (`/path?query`, not re-encoded or reordered), or a full URL. */
  url: string;
  /**
   * Must hold `authorization`, and `x-ts`, `x-nonce` and `x-pop` (keyward's form) or
   * `signature-input`, `signature` and, with a body, `content-digest` (RFC 9421); a repeated
   * one counts as absent.
   */
  headers: HeaderBag;
  /**
   * The exact raw body bytes as received, whatever the content type (not a
   * parsed and re-serialized body: the MAC covers the bytes). A string is
   * taken as its UTF-8 bytes. Absent (undefined or null) only when the
   * request has no body: when its headers announce one (`content-length`
   * above 0, or any `transfer-encoding`) and none is passed, verification
   * fails with `ERR_POP_BODY_MISSING` rather than check the MAC against an
   * empty body.
   */
  body?: TextOrBytes | null;
}

/** Options of `PopVerifier`. */
export interface PopVerifierOptions<S> {
  /** The key (and anything else) of the live session a bearer names, or undefined when unknown, expired or revoked. */
  lookup: (bearer: string) => (S & { popKey: PopKey }) | undefined | Promise<(S & { popKey: PopKey }) | undefined>;
  /** Where used nonces are remembered; a new in-process `MemoryReplayCache` by default (share one across instances). */
  replayCache?: ReplayCache;
  /** How far a timestamp may be from now, either way; 30 s by default. */
  windowMs?: number;
  /** Time source, ms since the epoch; `Date.now` by default. */
  clock?: () => number;
  /**
   * The signature forms accepted: `'keyward'` (`X-TS`/`X-NONCE`/`X-POP`) and `'rfc9421'`
   * (HTTP Message Signatures, docs/pop.md "RFC 9421 profile"); both by default. A request
   * in a form left out is refused with `ERR_POP_BAD_MAC`.
   */
  forms?: readonly PopSignatureForm[];
  /**
   * The origin (`https://api.example.com`) clients address this server by, which an RFC 9421
   * signature over `@target-uri` covers; or a function of the request that returns it (e.g.
   * from a `host` header a trusted proxy sets). By default the origin of `request.url` when it
   * is a full URL; otherwise none, and only `@path`/`@query` signatures can verify.
   */
  origin?: string | ((request: RequestToVerify) => string | undefined);
}

/** A form of signed request: keyward's headers, or keyward's RFC 9421 profile. */
export type PopSignatureForm = 'keyward' | 'rfc9421';

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

/** The RFC 9421 fields, read only when `signature-input` or `signature` is present. */
function rfc9421Fields(headers: HeaderBag) {
  if (typeof (headers as Headers).get === 'function') {
    const h = headers as Headers;
    const value = (name: string) => h.get(name) ?? undefined;
    return { input: value('signature-input'), signature: value('signature'), digest: value('content-digest') };
  }
  const h = headers as Record<string, string | string[] | undefined>;
  return { input: single(h['signature-input']), signature: single(h.signature), digest: single(h['content-digest']) };
}

function hasRfc9421(headers: HeaderBag): boolean {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).has('signature-input') || (headers as Headers).has('signature');
  const h = headers as Record<string, unknown>;
  return h['signature-input'] !== undefined || h.signature !== undefined;
}

/** Whether the headers announce a body: `content-length` other than 0, or any `transfer-encoding`. */
function announcesBody(headers: HeaderBag): boolean {
  const read = (name: string): string | string[] | undefined | null =>
    typeof (headers as Headers).get === 'function' ? (headers as Headers).get(name) : (headers as Record<string, string | string[] | undefined>)[name];
  const encoding = read('transfer-encoding');
  if (encoding !== undefined && encoding !== null) return true;
  const length = read('content-length');
  if (length === undefined || length === null) return false;
  // Anything but a plain zero (a malformed length included) counts as a body.
  return !(typeof length === 'string' && /^0+$/.test(length.trim()));
}

// The header grammar lives in crates/pop (headers.rs); only the bearer's
// place is checked here, before the lookup, with its constants.
const BEARER_PREFIX = binding.POP_BEARER_PREFIX;
const MAX_AUTHORIZATION = BEARER_PREFIX.length + binding.POP_MAX_BEARER_BYTES;

/** The bearer of an `Authorization` value, as keyward_pop::parse_bearer: undefined if it has none. */
function bearerOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length <= BEARER_PREFIX.length || authorization.length > MAX_AUTHORIZATION) return undefined;
  return authorization.startsWith(BEARER_PREFIX) ? authorization.slice(BEARER_PREFIX.length) : undefined;
}

/** What `popVerify` found (keyward_pop::Outcome, crates/pop/src/outcome.rs). */
const Outcome = binding.PopOutcome;

const popError = (message: string, code: PopErrorCode) => new PopError(message, code);

/** Each refusing outcome's code and message, as keyward_pop reports them (`Outcome::error`). */
const refusals = new Map(binding.popRefusals().map((r) => [r.outcome, { message: r.message, code: r.code as PopErrorCode }]));

/** The refusal of `outcome` (an unknown one is a bad MAC); `now` goes with `Stale`, so the client can correct its clock. */
function refusal(outcome: number, now: number): PopError {
  const known = refusals.get(outcome) ?? refusals.get(Outcome.BadMac);
  // Unreachable: keyward_pop reports a refusal for every outcome but Ok.
  if (known === undefined) throw new Error(`no refusal for the PoP outcome ${outcome}`);
  const { message, code } = known;
  return new PopError(message, code, outcome === Outcome.Stale ? { serverTime: now } : undefined);
}

const replayed = () => refusal(Outcome.Replay, 0);

/** Only what is a promise is awaited: a memory store answers at once, and each `await` costs a turn. */
const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as Promise<T>)?.then === 'function';

/** Checks proof-of-possession signatures of requests against the sessions `lookup` finds. */
export class PopVerifier<S = object> {
  readonly #lookup: PopVerifierOptions<S>['lookup'];
  readonly #replay: ReplayCache;
  /** The native handle of an in-process replay cache; undefined for a shared one. */
  readonly #inProcess: number | undefined;
  readonly #window: number;
  readonly #clock: () => number;
  readonly #keyward: boolean;
  readonly #rfc9421: boolean;
  readonly #origin: PopVerifierOptions<S>['origin'];

  /**
   * A missing `lookup`, a `windowMs` that is not whole ms > 0, `forms` that is not a non-empty
   * list of `'keyward'`/`'rfc9421'`, or an `origin` that is neither a string nor a function
   * throws `InvalidArgumentError`.
   */
  constructor(options: PopVerifierOptions<S>) {
    if (typeof options?.lookup !== 'function') throw new InvalidArgumentError('options.lookup must be a function');
    this.#lookup = options.lookup;
    this.#window = options.windowMs ?? 30_000;
    if (!Number.isSafeInteger(this.#window) || this.#window <= 0) throw new InvalidArgumentError('options.windowMs must be whole ms > 0');
    this.#clock = options.clock ?? Date.now;
    this.#replay = options.replayCache ?? new MemoryReplayCache({ clock: this.#clock });
    this.#inProcess = (this.#replay as Partial<Record<typeof inProcessReplay, number>>)[inProcessReplay];
    const forms = options.forms ?? ['keyward', 'rfc9421'];
    if (!Array.isArray(forms) || forms.length === 0 || forms.some((f) => f !== 'keyward' && f !== 'rfc9421')) {
      throw new InvalidArgumentError("options.forms must be a non-empty list of 'keyward' and 'rfc9421'");
    }
    this.#keyward = forms.includes('keyward');
    this.#rfc9421 = forms.includes('rfc9421');
    if (options.origin !== undefined && typeof options.origin !== 'string' && typeof options.origin !== 'function') {
      throw new InvalidArgumentError('options.origin must be a string or a function');
    }
    this.#origin = options.origin;
  }

  /**
   * Resolves to the session when the request proves possession of its key;
   * throws `PopError` otherwise. `request.body` must be the raw body bytes
   * (see `RequestToVerify`).
   */
  async verify(request: RequestToVerify): Promise<S & { popKey: PopKey; sessionId: string }> {
    if (typeof request?.headers !== 'object' || request.headers === null) throw new InvalidArgumentError('request.headers must be an object or Headers');
    const rawBody = request.body;
    if ((rawBody === undefined || rawBody === null) && announcesBody(request.headers)) {
      throw popError('the request has a body but none was passed to verify: pass its raw bytes', 'ERR_POP_BODY_MISSING');
    }
    const rfc9421 = hasRfc9421(request.headers);
    if (rfc9421 ? !this.#rfc9421 : !this.#keyward) {
      throw popError(rfc9421 ? 'RFC 9421 signatures are not accepted here' : 'X-POP signatures are not accepted here: sign with RFC 9421', 'ERR_POP_BAD_MAC');
    }
    const { authorization, ts, nonce, mac } = popHeaders(request.headers);
    // The bearer may be a session id or a sealed session token; the key's session id is the truth.
    // Its form is checked by whoever looks it up (a token must open); here only its place.
    const bearer = bearerOf(authorization);
    if (bearer === undefined) throw popError('no bearer session id', 'ERR_POP_NO_SESSION');
    const found = this.#lookup(bearer);
    const session = isPromise(found) ? await found : found;
    if (session === undefined || session === null) throw popError('unknown, expired or revoked session', 'ERR_POP_NO_SESSION');

    const sessionId = session.popKey.sessionId;
    const inProcess = this.#inProcess;
    const now = inProcess === undefined || this.#clock !== Date.now ? this.#clock() : undefined;
    if (rfc9421) {
      await this.#verifyRfc9421(request, session.popKey, rawBody, now);
      return (session as { sessionId?: string }).sessionId === sessionId ? (session as S & { popKey: PopKey; sessionId: string }) : { ...session, sessionId };
    }
    // Time, nonce form and MAC are checked in Rust (keyward_pop's verify_request), in that
    // order, and with an in-process cache the nonce is recorded there after the MAC. The
    // nonce goes last: a line break in any field then shows in it, which it may not hold.
    const parts = `${sessionId}\n${methodArg(request.method)}\n${requestTarget(request.url)}\n${ts ?? ''}\n${mac ?? ''}\n${nonce ?? ''}`;
    const body = bodyBytes(rawBody);
    let outcome: number;
    // Not through call(): this is the hottest path, and a closure per request shows.
    try {
      outcome = binding.popVerify(session.popKey.handle, parts, body, inProcess ?? 0, this.#window, now);
    } catch (error) {
      throw fromNative(error);
    }
    if (outcome !== Outcome.Ok) throw refusal(outcome, now ?? this.#clock());
    if (inProcess === undefined) {
      // A cache shared by instances is asked only now that the MAC verified, with the nonce
      // Rust checked. It only has to be unique while its timestamp is acceptable: twice the
      // window covers both sides.
      const fresh = this.#replay.add(`${sessionId}:${nonce}`, 2 * this.#window);
      if (!(isPromise(fresh) ? await fresh : fresh)) throw replayed();
    }
    return (session as { sessionId?: string }).sessionId === sessionId ? (session as S & { popKey: PopKey; sessionId: string }) : { ...session, sessionId };
  }

  /** The RFC 9421 checks (crates/pop/src/rfc9421.rs), in Rust, then a shared cache as for `X-POP`. */
  async #verifyRfc9421(request: RequestToVerify, popKey: PopKey, rawBody: TextOrBytes | null | undefined, now: number | undefined): Promise<void> {
    const { input, signature, digest } = rfc9421Fields(request.headers);
    const method = methodArg(request.method);
    const target = requestTarget(request.url);
    const origin = this.#originOf(request);
    const inProcess = this.#inProcess;
    const result = call(() =>
      binding.popVerifyRfc9421(
        popKey.handle,
        popKey.sessionId,
        method,
        origin,
        target,
        bodyBytes(rawBody),
        input,
        signature,
        digest,
        inProcess ?? 0,
        this.#window,
        now,
      ),
    );
    if (result.outcome !== Outcome.Ok) throw refusal(result.outcome, now ?? this.#clock());
    if (inProcess === undefined) {
      const fresh = this.#replay.add(`${popKey.sessionId}:${result.nonce ?? ''}`, 2 * this.#window);
      if (!(isPromise(fresh) ? await fresh : fresh)) throw replayed();
    }
  }

  #originOf(request: RequestToVerify): string {
    const option = this.#origin;
    const origin = typeof option === 'function' ? option(request) : option;
    if (typeof origin === 'string') return origin;
    if (request.url.startsWith('/')) return '';
    try {
      return new URL(request.url).origin;
    } catch {
      return '';
    }
  }
}
