/**
 * End-to-end sessions: started online with Noise_IK or offline
 * from a prekey bundle, then carried by the Double Ratchet. All keys stay in
 * Rust; persist with `serialize(storageKey)` after each call that changes
 * the state (every `encrypt` and `decrypt`).
 */
import { bytes, optionalTextOrBytes, type TextOrBytes, textOrBytes } from '../bytes';
import { InvalidArgumentError, SessionError } from '../errors';
import { binding, call, callAsync } from '../native';
import { identityOf, optionsOf, preKeySetOf } from './args';
import { IdentityKey } from './identity';
import type { PreKeySet } from './prekeys';
import { type ReplayGuard, replayGuardOf, replayKey, replayWindowOf } from './replay';

type NativeSession = InstanceType<typeof binding.Session>;
const empty = new Uint8Array(0);

/** Options of `Session.initiate` (and, through `RespondOptions`, of `Session.respond`). */
export interface HandshakeOptions {
  /** Bound into the handshake: both sides must pass the same bytes. */
  prologue?: TextOrBytes;
  /** Sent encrypted in the handshake message (not forward-secret in message 1). */
  payload?: TextOrBytes;
}

/**
 * A peer's identity as the caller knows it: its Ed25519 public key (32
 * bytes) or its fingerprint (`IdentityKey.fingerprint`, 64 hex digits).
 * Compared by fingerprint.
 */
export type ExpectedPeer = Uint8Array | string;

/** Options of `Session.respond` and `Session.respondAsync`. */
export interface RespondOptions extends HandshakeOptions {
  /** Refuse any initiator but this identity (`ERR_SESSION_UNEXPECTED_PEER`). */
  expectedPeer?: ExpectedPeer;
  /**
   * Remembers accepted first messages (by their initiator ephemeral) so a
   * replayed copy is refused with `ERR_SESSION_REPLAY` instead of
   * delivering its payload again. Default: one `MemoryReplayGuard` per
   * process. Several instances behind one address must share one (e.g. on
   * Redis); `Session.respond` needs one whose `add` answers synchronously,
   * `Session.respondAsync` takes either. `false` turns the check off (the
   * application then deduplicates itself). See docs/sessions.md.
   */
  replayGuard?: ReplayGuard | false;
  /**
   * How long an accepted first message is remembered; 10 minutes by
   * default. A copy replayed later is accepted again unless the payload
   * binds a time or an id the application checks.
   */
  replayWindowMs?: number;
}

/**
 * Whose bundle it must be. A bundle proves only that its own identity signed
 * it: a directory or relay could serve anyone's. Give `expectedPeer`, or say
 * `trustOnFirstUse: true` to accept whoever signed it (then check
 * `session.peerFingerprint` before trusting the session). One of the two is
 * required.
 */
export type FromBundleOptions = ({ expectedPeer: ExpectedPeer; trustOnFirstUse?: never } | { trustOnFirstUse: true; expectedPeer?: never }) & {
  /**
   * A one-time ML-KEM-768 prekey claimed beside the bundle (a relay's BUNDLE frame carries one
   * while the peer has some left): the start encapsulates to it instead of the bundle's
   * last-resort ML-KEM key, so the post-quantum half is used once too. Its signature must verify
   * as the bundle identity's (`SessionError` `ERR_SESSION_BAD_SIGNATURE` otherwise); a key of the
   * wrong length throws `SessionError` `ERR_SESSION_FORMAT`.
   */
  oneTimeKem?: OneTimeKemPreKey;
};

/**
 * A one-time ML-KEM-768 prekey as a relay hands it out (`Bundle.oneTimeKem`): its id and
 * `key` = ML-KEM-768 public key (1 184 bytes) ‖ the owner's Ed25519 signature (64 bytes).
 */
export interface OneTimeKemPreKey {
  id: number;
  key: Uint8Array;
}

/** Options of `Session.accept`. */
export interface AcceptOptions {
  /** Authenticated with the first message, not sent: the `ad` the initiator passed to `encrypt` for this message. */
  ad?: TextOrBytes;
  /** Refuse a start from anyone but this identity, before it consumes a prekey. */
  expectedPeer?: ExpectedPeer;
}

/** What `Session.respond` returns. */
export interface Responded {
  /** The responder's session, ready to encrypt at once. */
  session: Session;
  /** Send this back to the initiator. */
  reply: Uint8Array;
  /** The initiator's Ed25519 identity: decide whether you trust it before using the session. */
  peerPublicKey: Uint8Array;
  /** Its fingerprint: what to compare with the identities you know. */
  peerFingerprint: string;
  /** The initiator's handshake payload (empty if none); delivered once, not again for a replayed copy. */
  payload: Uint8Array;
}

/** `[publicKey, fingerprint]` for the binding; at most one is set. */
function expectedArgs(expected: unknown, name: string): [Uint8Array | undefined, Uint8Array | undefined] {
  if (expected === undefined) return [undefined, undefined];
  if (expected instanceof Uint8Array) return [expected, undefined];
  if (typeof expected === 'string' && /^[0-9a-fA-F]{64}$/.test(expected)) return [undefined, Uint8Array.from(Buffer.from(expected, 'hex'))];
  throw new InvalidArgumentError(`${name} must be an identity public key (Uint8Array) or its fingerprint (64 hex digits)`);
}

function bundleExpectation(options: unknown): [Uint8Array | undefined, Uint8Array | undefined] {
  const o = (typeof options === 'object' && options !== null ? options : {}) as { expectedPeer?: unknown; trustOnFirstUse?: unknown };
  const tofu = o.trustOnFirstUse === true;
  const given = o.expectedPeer !== undefined && o.expectedPeer !== null;
  if (tofu === given) {
    throw new InvalidArgumentError(
      'Session.fromBundle needs options.expectedPeer (the identity the bundle must belong to) or options.trustOnFirstUse: true, exactly one',
    );
  }
  return tofu ? [undefined, undefined] : expectedArgs(o.expectedPeer, 'options.expectedPeer');
}

/** `id (4, big-endian) ‖ key ‖ signature`, the form crates/session reads; `undefined` when none. */
function oneTimeKemArg(options: unknown): Uint8Array | undefined {
  const k = (typeof options === 'object' && options !== null ? (options as { oneTimeKem?: unknown }).oneTimeKem : undefined) as
    | Partial<OneTimeKemPreKey>
    | null
    | undefined;
  if (k === undefined || k === null) return undefined;
  if (typeof k !== 'object' || typeof k.id !== 'number' || !Number.isInteger(k.id) || k.id < 0 || k.id > 0xffff_ffff) {
    throw new InvalidArgumentError('options.oneTimeKem must be { id: a whole number from 0 to 4294967295, key: Uint8Array }');
  }
  const key = bytes(k.key, 'options.oneTimeKem.key');
  const encoded = new Uint8Array(4 + key.length);
  new DataView(encoded.buffer).setUint32(0, k.id);
  encoded.set(key, 4);
  return encoded;
}

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as Promise<T>)?.then === 'function';

/** What the native `respond` gives: the session, the reply to send and the initiator's payload. */
type NativeResponded = ReturnType<typeof binding.Session.respond>;

/**
 * An end-to-end session, started with Noise_IK (`initiate`/`respond`) or from a prekey bundle
 * (`fromBundle`/`accept`) and carried by the Double Ratchet; every key stays in Rust. Persist with
 * `serialize` after every call you want to survive a restart; calls after `dispose()` throw `InvalidStateError`.
 * Every start checks its arguments first: an `identity` that is not an `IdentityKey`, `preKeys` that
 * are not a `PreKeySet` or an options bag that is not an object throws `InvalidArgumentError`.
 */
export class Session {
  /** @internal */
  readonly native: NativeSession;

  private constructor(native: NativeSession) {
    this.native = native;
  }

  /**
   * Starts a Noise_IK handshake with the peer's Ed25519 identity. Send
   * `message`, then pass the reply to `session.complete(reply)`.
   */
  static initiate(identity: IdentityKey, peerPublicKey: Uint8Array, options?: HandshakeOptions): { session: Session; message: Uint8Array } {
    const id = identityOf(identity);
    const peer = bytes(peerPublicKey, 'peerPublicKey');
    const o = optionsOf(options);
    const prologue = optionalTextOrBytes(o.prologue, 'prologue') ?? empty;
    const payload = optionalTextOrBytes(o.payload, 'payload') ?? empty;
    const { session, message } = call(() => binding.Session.initiate(id, peer, prologue, payload));
    return { session: new Session(session), message };
  }

  /**
   * Answers a handshake message; the session can encrypt at once. A copy of
   * a first message already answered within the replay window throws
   * `SessionError` `ERR_SESSION_REPLAY` (see `RespondOptions.replayGuard`).
   */
  static respond(identity: IdentityKey, message: Uint8Array, options?: RespondOptions): Responded {
    const { native, guard, key, window } = Session.#respondNative(identity, message, options);
    if (guard === undefined) return Session.#responded(native);
    const fresh = Session.#ask(native, guard, key, window);
    if (isPromise(fresh)) {
      Promise.resolve(fresh).catch(() => {});
      Session.#discard(native);
      throw new InvalidArgumentError('options.replayGuard answered asynchronously: use Session.respondAsync with a shared guard');
    }
    return Session.#admit(native, fresh);
  }

  /** `respond` with a replay guard that may answer with a promise (a shared store). */
  static async respondAsync(identity: IdentityKey, message: Uint8Array, options?: RespondOptions): Promise<Responded> {
    const { native, guard, key, window } = Session.#respondNative(identity, message, options);
    if (guard === undefined) return Session.#responded(native);
    let fresh: boolean;
    try {
      fresh = await guard.add(key, window);
    } catch (error) {
      return Session.#drop(native, error);
    }
    return Session.#admit(native, fresh);
  }

  static #respondNative(identity: IdentityKey, message: Uint8Array, options: RespondOptions | undefined) {
    const id = identityOf(identity);
    const m = bytes(message, 'message');
    const o = optionsOf(options);
    const prologue = optionalTextOrBytes(o.prologue, 'prologue') ?? empty;
    const payload = optionalTextOrBytes(o.payload, 'payload') ?? empty;
    const [key, fingerprint] = expectedArgs(o.expectedPeer, 'options.expectedPeer');
    const guard = replayGuardOf(o.replayGuard);
    const window = replayWindowOf(o.replayWindowMs);
    const native = call(() => binding.Session.respond(id, m, prologue, payload, key, fingerprint));
    // Only an authenticated message reaches the guard: nobody can spend an
    // honest initiator's ephemeral by sending it first with garbage after it.
    return { native, guard, key: guard === undefined ? '' : replayKey(m), window };
  }

  static #ask(native: NativeResponded, guard: ReplayGuard, key: string, window: number): boolean | Promise<boolean> {
    try {
      return guard.add(key, window);
    } catch (error) {
      return Session.#drop(native, error);
    }
  }

  static #drop(native: NativeResponded, error: unknown): never {
    Session.#discard(native);
    throw error;
  }

  /** Ends a refused start: the session is disposed and the payload never handed out is wiped. */
  static #discard(native: NativeResponded): void {
    native.session.dispose();
    native.payload.fill(0);
  }

  /** The payload is handed out only for a first message the guard had not seen. */
  static #admit(native: NativeResponded, fresh: boolean): Responded {
    if (fresh !== true) {
      Session.#discard(native);
      throw new SessionError('this first message was already answered (a replay): its payload is not delivered again', 'ERR_SESSION_REPLAY');
    }
    return Session.#responded(native);
  }

  static #responded(native: NativeResponded): Responded {
    const session = new Session(native.session);
    return {
      session,
      reply: native.reply,
      peerPublicKey: session.peerPublicKey,
      peerFingerprint: session.peerFingerprint,
      payload: native.payload,
    };
  }

  /** Reads the responder's reply and returns its payload. A failed reply ends the handshake. */
  complete(reply: Uint8Array): Uint8Array {
    const r = bytes(reply, 'reply');
    return call(() => this.native.complete(r));
  }

  /**
   * Starts from a signed prekey bundle without the peer online. Messages
   * carry the start until the peer's first reply arrives. `options` says
   * whose bundle it must be (see `FromBundleOptions`); another signer throws
   * `SessionError` `ERR_SESSION_UNEXPECTED_PEER`, no choice at all throws
   * `InvalidArgumentError`. `options.oneTimeKem` is the one-time ML-KEM prekey
   * claimed with the bundle, if any (see `FromBundleOptions.oneTimeKem`).
   */
  static fromBundle(identity: IdentityKey, bundle: Uint8Array, options: FromBundleOptions): Session {
    const id = identityOf(identity);
    const b = bytes(bundle, 'bundle');
    const [key, fingerprint] = bundleExpectation(options);
    const kem = oneTimeKemArg(options);
    return new Session(call(() => binding.Session.fromBundle(id, b, key, fingerprint, kem)));
  }

  /**
   * The receiving side of an offline start: decrypts the first message and
   * consumes the one-time prekeys it names, X25519 and ML-KEM (a second start
   * with either is refused with `ERR_SESSION_PREKEY_REUSED`; an id the set never
   * issued with `ERR_SESSION_UNKNOWN_PREKEY`). Persist the prekey set after.
   */
  static accept(identity: IdentityKey, preKeys: PreKeySet, message: Uint8Array, options?: AcceptOptions): { session: Session; plaintext: Uint8Array } {
    const id = identityOf(identity);
    const set = preKeySetOf(preKeys);
    const m = bytes(message, 'message');
    const o = optionsOf(options);
    const ad = optionalTextOrBytes(o.ad, 'ad') ?? empty;
    const [key, fingerprint] = expectedArgs(o.expectedPeer, 'options.expectedPeer');
    const { session, plaintext } = call(() => binding.Session.accept(id, set, m, ad, key, fingerprint));
    return { session: new Session(session), plaintext };
  }

  /**
   * Restores a session from `serialize(storageKey)`. A wrong key or a changed byte throws
   * `DecryptionError`; another kind or version, or an inconsistent state, throws `SessionError`
   * `ERR_SESSION_FORMAT`. Restoring an older record brings back message keys already used.
   */
  static deserialize(record: Uint8Array, storageKey: Uint8Array): Session {
    const r = bytes(record, 'record');
    const k = bytes(storageKey, 'storageKey');
    return new Session(call(() => binding.Session.deserialize(r, k)));
  }

  /** Encrypts one message; `ad` is authenticated, not sent. */
  encrypt(plaintext: TextOrBytes, ad?: TextOrBytes): Uint8Array {
    const p = textOrBytes(plaintext, 'plaintext');
    const a = ad === undefined ? empty : textOrBytes(ad, 'ad');
    return call(() => this.native.crypt(p, a, true));
  }

  /**
   * Decrypts one message, in any order within the limits. A duplicate, a
   * tampered message or one too far ahead throws and changes nothing.
   */
  decrypt(message: Uint8Array, ad?: TextOrBytes): Uint8Array {
    const m = bytes(message, 'message');
    const a = ad === undefined ? empty : textOrBytes(ad, 'ad');
    return call(() => this.native.crypt(m, a, false));
  }

  /**
   * `encrypt` on a worker thread, for large messages (a few ms per MiB).
   * While it runs, synchronous calls on this session throw `InvalidStateError`
   * instead of blocking the event loop.
   */
  encryptAsync(plaintext: TextOrBytes, ad?: TextOrBytes): Promise<Uint8Array> {
    const p = textOrBytes(plaintext, 'plaintext');
    const a = ad === undefined ? empty : textOrBytes(ad, 'ad');
    return callAsync(() => binding.sessionCryptAsync(this.native.handle, p, a, true));
  }

  /** `decrypt` on a worker thread; the same rules as `encryptAsync`. */
  decryptAsync(message: Uint8Array, ad?: TextOrBytes): Promise<Uint8Array> {
    const m = bytes(message, 'message');
    const a = ad === undefined ? empty : textOrBytes(ad, 'ad');
    return callAsync(() => binding.sessionCryptAsync(this.native.handle, m, a, false));
  }

  /** An encrypted, versioned record under a 32-byte storage key, with a fresh nonce each time. */
  serialize(storageKey: Uint8Array): Uint8Array {
    const k = bytes(storageKey, 'storageKey');
    return call(() => this.native.serialize(k));
  }

  /** The peer's Ed25519 identity. */
  get peerPublicKey(): Uint8Array {
    return call(() => this.native.peerPublicKey);
  }

  /** The peer's fingerprint (`IdentityKey.fingerprint`): compare this, not key bytes. */
  get peerFingerprint(): string {
    return IdentityKey.fingerprint(this.peerPublicKey);
  }

  /** Wipes every key of the session; later calls throw `InvalidStateError`. */
  dispose(): void {
    this.native.dispose();
  }
}

/**
 * Overwrites `buffer` with zeros (from Rust, so the write is not optimised away). A view over a
 * `SharedArrayBuffer` throws `InvalidArgumentError`: another thread may write it during the call,
 * and wiping a private copy would leave the shared bytes as they were. Clear shared memory with
 * `view.fill(0)` (other threads can observe that write, so it is not optimised away either) once
 * every thread is done with it.
 */
export function secureWipe(buffer: Uint8Array): void {
  const b = bytes(buffer, 'buffer');
  if (typeof SharedArrayBuffer !== 'undefined' && b.buffer instanceof SharedArrayBuffer) {
    throw new InvalidArgumentError('buffer is a view over a SharedArrayBuffer: secureWipe wipes only memory no other thread can write');
  }
  binding.secureWipe(b);
}
