/**
 * Secret keys for sealed data. The bytes live in Rust; each purpose (boxes,
 * MACs, streams, vaults) uses its own HKDF-derived subkey of the key.
 */
import { bytes, type TextOrBytes, textOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';

type NativeKey = InstanceType<typeof binding.SecretKey>;

/** A 256-bit key held in Rust; used by `seal`/`open`, tokens, `mac`, streams and vaults. */
export class SecretKey {
  /** @internal */
  readonly native: NativeKey;
  /** @internal The key's handle for the hot calls (seal/open), read once. */
  readonly handle: number;

  private constructor(native: NativeKey) {
    this.native = native;
    this.handle = native.handle;
  }

  /** A fresh random 256-bit key from the operating system's CSPRNG. */
  static generate(): SecretKey {
    return new SecretKey(binding.SecretKey.generate());
  }

  /**
   * Copies exactly 32 key bytes into Rust (for example bytes from a KMS); any other
   * length throws `InvalidArgumentError`. The caller may wipe `key` afterwards.
   */
  static from(key: Uint8Array): SecretKey {
    const b = bytes(key, 'key');
    return new SecretKey(call(() => binding.SecretKey.fromBytes(b)));
  }

  /**
   * An independent key for `domain` and `context` (HKDF-SHA-512 over an unambiguous
   * encoding, so `('a', 'bc')` and `('ab', 'c')` differ). Throws `InvalidStateError` after `dispose()`.
   * @example const perUser = root.derive('avatars', userId);
   */
  derive(domain: TextOrBytes, ...context: TextOrBytes[]): SecretKey {
    const d = textOrBytes(domain, 'domain');
    const parts = context.map((c, i) => textOrBytes(c, `context[${i}]`));
    return new SecretKey(call(() => this.native.derive(d, parts)));
  }

  /** Copies the 32 key bytes out of Rust. Only when you must store or send them. */
  exportBytes(): Uint8Array {
    return call(() => this.native.exportBytes());
  }

  /** True once `dispose()` ran. */
  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Wipes the key now; every later use throws `InvalidStateError`. */
  dispose(): void {
    this.native.dispose();
  }
}

export function keyArg(key: unknown): NativeKey {
  return checkedKey(key).native;
}

export function keyHandle(key: unknown): number {
  return checkedKey(key).handle;
}

function checkedKey(key: unknown): SecretKey {
  if (!(key instanceof SecretKey)) throw new InvalidArgumentError('key must be a SecretKey');
  return key;
}

/** `key.derive(domain, ...context)` as a function; a non-`SecretKey` throws `InvalidArgumentError`. */
export function deriveKey(key: SecretKey, domain: TextOrBytes, ...context: TextOrBytes[]): SecretKey {
  keyArg(key);
  return key.derive(domain, ...context);
}
