/**
 * The relay's static X25519 key (docs/relay.md "Handshake"). The secret
 * stays in Rust; clients pin `publicKey`.
 */
import { bytes } from '../bytes';
import { binding, call } from '../native';
import type { NativeRelayKey } from './wire';

/** The relay's static key. Calls after `dispose()` throw `InvalidStateError`. */
export class RelayKey {
  /** @internal */
  readonly native: NativeRelayKey;
  /** The 32-byte X25519 public key clients pin (print it base64url for them). */
  readonly publicKey: Uint8Array;

  private constructor(native: NativeRelayKey) {
    this.native = native;
    this.publicKey = native.publicKey;
  }

  /** A new random key. */
  static generate(): RelayKey {
    return new RelayKey(call(() => binding.RelayKey.generate()));
  }

  /** The key whose secret is these 32 bytes (`exportBytes()`); other lengths throw `InvalidArgumentError`. */
  static fromBytes(secret: Uint8Array): RelayKey {
    const s = bytes(secret, 'secret');
    return new RelayKey(call(() => binding.RelayKey.fromBytes(s)));
  }

  /** Copies the 32-byte secret out of Rust, to store it (keep it as a secret: whoever holds it is the relay). */
  exportBytes(): Uint8Array {
    return call(() => this.native.exportBytes());
  }

  /** Wipes the secret. */
  dispose(): void {
    this.native.dispose();
  }
}
