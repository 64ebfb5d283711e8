/**
 * Prekeys for offline starts (X3DH, optionally with an ML-KEM-768 prekey as
 * in PQXDH): the receiver keeps a `PreKeySet` and publishes its bundles.
 */
import { bytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call, callAsync } from '../native';
import { identityOf, optionsOf } from './args';
import type { IdentityKey } from './identity';

type NativeSet = InstanceType<typeof binding.PreKeySet>;

/** Options of `PreKeySet.generate` and `PreKeySet.generateAsync`. */
export interface PreKeySetOptions {
  /** One-time prekeys to create now, a whole number from 0 to 100 000 (default 100). */
  oneTimePreKeys?: number;
  /** Add a signed ML-KEM-768 prekey so starts are post-quantum hybrid (default false). */
  kem?: boolean;
}

/** The most one-time prekeys a set holds (crates/session). */
const MAX_ONE_TIME = binding.MAX_ONE_TIME_PRE_KEYS;
/** The most one-time ML-KEM prekeys a set holds (crates/session). */
const MAX_ONE_TIME_KEM = binding.MAX_ONE_TIME_KEM_PRE_KEYS;

function count(value: unknown, name: string, max = MAX_ONE_TIME): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidArgumentError(`${name} must be a whole number from 0 to ${max}`);
  }
  return value;
}

/** `[oneTimePreKeys, kem]` of a checked options bag. */
function setOptions(options: PreKeySetOptions | undefined): [number, boolean] {
  const o = optionsOf(options);
  const n = count(o.oneTimePreKeys ?? 100, 'oneTimePreKeys');
  const kem = o.kem ?? false;
  if (typeof kem !== 'boolean') throw new InvalidArgumentError('kem must be a boolean');
  return [n, kem];
}

/**
 * The receiver's private prekeys (a signed X25519 prekey, one-time prekeys, optionally an
 * ML-KEM-768 prekey), kept in Rust. Persist it with `serialize` after every change, above all
 * after each `Session.accept`, which consumes a one-time prekey. Calls after `dispose()` throw `InvalidStateError`.
 */
export class PreKeySet {
  /** @internal */
  readonly native: NativeSet;

  private constructor(native: NativeSet) {
    this.native = native;
  }

  /**
   * A new set whose prekeys are signed by `identity`. An `identity` that is not an `IdentityKey`,
   * an `options` that is not an object, a count outside 0–100 000 or a non-boolean `kem` throws
   * `InvalidArgumentError` `ERR_INVALID_ARG_VALUE`.
   */
  static generate(identity: IdentityKey, options?: PreKeySetOptions): PreKeySet {
    const id = identityOf(identity);
    const [n, kem] = setOptions(options);
    return new PreKeySet(call(() => binding.PreKeySet.generate(id, n, kem)));
  }

  /** `generate` off the event loop: use it for sets of thousands of prekeys. */
  static async generateAsync(identity: IdentityKey, options?: PreKeySetOptions): Promise<PreKeySet> {
    const id = identityOf(identity);
    const [n, kem] = setOptions(options);
    const native = await callAsync(() => binding.PreKeySet.generateAsync(id, n, kem));
    return new PreKeySet(native);
  }

  /**
   * Restores a set from `serialize(storageKey)`. A wrong key or a changed byte throws
   * `DecryptionError`; a record of another kind or version throws `SessionError` `ERR_SESSION_FORMAT`.
   */
  static deserialize(record: Uint8Array, storageKey: Uint8Array): PreKeySet {
    const r = bytes(record, 'record');
    const k = bytes(storageKey, 'storageKey');
    return new PreKeySet(call(() => binding.PreKeySet.deserialize(r, k)));
  }

  /**
   * A signed bundle to publish. Each call includes the next one-time prekey
   * that was never published; once they run out, bundles carry none (the
   * start still works, without the one-time prekey's replay protection).
   */
  bundle(): Uint8Array {
    return call(() => this.native.bundle());
  }

  /** Generates `n` more one-time prekeys on the calling thread; the set holds at most 100 000 (`InvalidArgumentError`). */
  addOneTimePreKeys(n: number): void {
    const c = count(n, 'n');
    call(() => this.native.addOneTime(c));
  }

  /** `addOneTimePreKeys` with the keys generated off the event loop. */
  async addOneTimePreKeysAsync(n: number): Promise<void> {
    const c = count(n, 'n');
    if (this.oneTimePreKeyCount + c > MAX_ONE_TIME) throw new InvalidArgumentError(`a prekey set holds at most ${MAX_ONE_TIME} one-time prekeys`);
    const batch = await callAsync(() => binding.generateOneTimePreKeys(c));
    call(() => this.native.addBatch(batch));
  }

  /**
   * Adds `n` one-time ML-KEM-768 prekeys (ids counted apart from the X25519 ones). They are
   * published only through a relay upload (`Messenger`, or the binding's `relayPrekeyUploads`),
   * each signed by the identity; a start that uses one encapsulates to it instead of the
   * last-resort ML-KEM key, and `Session.accept` consumes it. Only their 64-byte seeds are kept, so
   * adding is cheap. `n` outside 0–10 000, or a set that would hold more than 10 000, throws
   * `InvalidArgumentError`.
   */
  addOneTimeKemPreKeys(n: number): void {
    const c = count(n, 'n', MAX_ONE_TIME_KEM);
    call(() => this.native.addOneTimeKem(c));
  }

  /**
   * Makes room for `oneTime` more one-time X25519 prekeys and `oneTimeKem` more ML-KEM ones by
   * dropping the oldest keys of each kind that were already published, as few as needed (none
   * while the set has room). A published key still held was handed out and never used, or waits
   * at the relay: once a set is full of them, the oldest are the least likely to be named by a
   * start, and a start that names a dropped one is refused (`ERR_SESSION_PREKEY_REUSED`). Keys not
   * yet published are never dropped. Returns how many of each kind were dropped; counts outside
   * 0–100 000 (X25519) or 0–10 000 (ML-KEM) throw `InvalidArgumentError`.
   */
  makeRoom(room: { oneTime?: number; oneTimeKem?: number }): { oneTime: number; oneTimeKem: number } {
    if (typeof room !== 'object' || room === null) throw new InvalidArgumentError('makeRoom takes { oneTime?, oneTimeKem? }');
    const x = count(room.oneTime ?? 0, 'oneTime');
    const kem = count(room.oneTimeKem ?? 0, 'oneTimeKem', MAX_ONE_TIME_KEM);
    const [oneTime, oneTimeKem] = call(() => this.native.makeRoom(x, kem)) as [number, number];
    return { oneTime, oneTimeKem };
  }

  /** A new signed (and KEM) prekey; the previous one still accepts starts already sent. A non-`IdentityKey` throws `InvalidArgumentError`. */
  rotate(identity: IdentityKey): void {
    const id = identityOf(identity);
    call(() => this.native.rotate(id));
  }

  /** One-time prekeys not yet consumed by a start. */
  get oneTimePreKeyCount(): number {
    return call(() => this.native.oneTimeCount);
  }

  /** One-time prekeys not yet handed out in a bundle. */
  get unpublishedCount(): number {
    return call(() => this.native.unpublishedCount);
  }

  /** One-time ML-KEM prekeys not yet consumed by a start. */
  get oneTimeKemPreKeyCount(): number {
    return call(() => this.native.oneTimeKemCount);
  }

  /** One-time ML-KEM prekeys not yet published by an upload. */
  get unpublishedKemCount(): number {
    return call(() => this.native.unpublishedKemCount);
  }

  /** Encrypted record; persist it after every `Session.accept`, which consumes a prekey. */
  serialize(storageKey: Uint8Array): Uint8Array {
    const k = bytes(storageKey, 'storageKey');
    return call(() => this.native.serialize(k));
  }

  /** Wipes every prekey; later calls throw `InvalidStateError`. */
  dispose(): void {
    this.native.dispose();
  }
}
