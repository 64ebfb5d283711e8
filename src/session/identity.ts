/**
 * Long-term identity keys: Ed25519 for signatures, with the X25519 key for
 * handshakes derived from it. The seed stays in Rust. Store and compare
 * identities by `fingerprint` (docs/sessions.md).
 */
import { bytes, type TextOrBytes, textOrBytes } from '../bytes';
import { binding, call } from '../native';

type NativeIdentity = InstanceType<typeof binding.IdentityKey>;

/**
 * A long-term identity: an Ed25519 key whose seed stays in Rust, with the X25519 key for
 * handshakes derived from it. Calls after `dispose()` throw `InvalidStateError`.
 */
export class IdentityKey {
  /** @internal */
  readonly native: NativeIdentity;
  /** The Ed25519 public key: what peers pin and bundles are signed with. */
  readonly publicKey: Uint8Array;
  /** The X25519 public key used in handshakes, derived from the Ed25519 key. */
  readonly x25519PublicKey: Uint8Array;

  private constructor(native: NativeIdentity) {
    this.native = native;
    this.publicKey = native.publicKey;
    this.x25519PublicKey = native.x25519PublicKey;
  }

  /** A new identity from a random seed. */
  static generate(): IdentityKey {
    return new IdentityKey(call(() => binding.IdentityKey.generate()));
  }

  /** The same identity every time for the same 32-byte seed; the seed is the whole secret, so keep it as such. */
  static fromSeed(seed: Uint8Array): IdentityKey {
    const s = bytes(seed, 'seed');
    return new IdentityKey(call(() => binding.IdentityKey.fromSeed(s)));
  }

  /**
   * Restores an identity from `serialize(storageKey)`. A wrong key or a changed byte throws
   * `DecryptionError`; a record of another kind or version throws `SessionError` `ERR_SESSION_FORMAT`.
   */
  static deserialize(record: Uint8Array, storageKey: Uint8Array): IdentityKey {
    const r = bytes(record, 'record');
    const k = bytes(storageKey, 'storageKey');
    return new IdentityKey(call(() => binding.IdentityKey.deserialize(r, k)));
  }

  /**
   * The identity's fingerprint: 64 lowercase hex digits of SHA-256 over a
   * domain label and the canonical key (docs/sessions.md). The one value to
   * store and compare for an identity: `A` and `-A`, the two keys one secret
   * can claim, share it. Throws `InvalidArgumentError` for a key that is
   * not canonically encoded, small-order or carries a torsion component.
   */
  static fingerprint(publicKey: Uint8Array): string {
    const k = bytes(publicKey, 'publicKey');
    return Buffer.from(call(() => binding.identityFingerprint(k))).toString('hex');
  }

  /** This identity's fingerprint (see the static `fingerprint`). */
  get fingerprint(): string {
    return Buffer.from(call(() => this.native.fingerprint)).toString('hex');
  }

  /** `true` only for a valid Ed25519 signature (strict: no malleable forms, no small-order, torsion or non-canonical keys). */
  static verify(publicKey: Uint8Array, message: TextOrBytes, signature: Uint8Array): boolean {
    return binding.identityVerify(bytes(publicKey, 'publicKey'), textOrBytes(message, 'message'), bytes(signature, 'signature'));
  }

  /** A 64-byte Ed25519 signature. */
  sign(message: TextOrBytes): Uint8Array {
    const m = textOrBytes(message, 'message');
    return call(() => this.native.sign(m));
  }

  /** Copies the 32-byte secret seed out of Rust. Only for your own backup. */
  exportSeed(): Uint8Array {
    return call(() => this.native.exportSeed());
  }

  /** An encrypted record of this identity under a 32-byte storage key. */
  serialize(storageKey: Uint8Array): Uint8Array {
    const k = bytes(storageKey, 'storageKey');
    return call(() => this.native.serialize(k));
  }

  /** Wipes the key; later calls throw `InvalidStateError`. */
  dispose(): void {
    this.native.dispose();
  }
}
