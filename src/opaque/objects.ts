/**
 * The server setup, the password file and the single-use protocol states.
 * Each wraps a Rust object: secret bytes stay in Rust until `serialize()`.
 */
import type * as Binding from '../../native/binding';
import { bytes } from '../bytes';
import { binding, call } from '../native';
import { suiteArg } from './params';
import type { Suite } from './types';

/** The server's long-term OPAQUE keys and OPRF seed: a secret to store sealed, and the same on every instance. */
export class ServerSetup {
  /** @internal */
  readonly native: InstanceType<typeof binding.ServerSetup>;

  private constructor(native: InstanceType<typeof binding.ServerSetup>) {
    this.native = native;
  }

  /** A new setup with fresh keys. Store its `serialize()` output as a secret. */
  static generate(suite?: Suite): ServerSetup {
    const s = suiteArg(suite);
    return new ServerSetup(call(() => binding.ServerSetup.generate(s)));
  }

  /** Reads keyward's serialization, which names its suite; bad bytes throw `SerializationError` or `SizeError`. */
  static deserialize(data: Uint8Array): ServerSetup {
    const b = bytes(data, 'data');
    return new ServerSetup(call(() => binding.ServerSetup.deserialize(b)));
  }

  /** Reads the bare opaque-ke layout (what `@serenity-kit/opaque` stores) of `suite`. */
  static fromRaw(suite: Suite, raw: Uint8Array): ServerSetup {
    const s = suiteArg(suite);
    const b = bytes(raw, 'raw');
    return new ServerSetup(call(() => binding.ServerSetup.fromRaw(s, b)));
  }

  /** The secret setup with a header naming format and suite. */
  serialize(): Uint8Array {
    return call(() => this.native.serialize(false));
  }

  /** The secret setup in the bare opaque-ke layout. */
  serializeRaw(): Uint8Array {
    return call(() => this.native.serialize(true));
  }

  /** The static public key clients pin. */
  get publicKey(): Uint8Array {
    return call(() => this.native.publicKey);
  }

  /** The cipher suite these keys belong to. */
  get suite(): Suite {
    return call(() => this.native.suite);
  }

  /** Wipes the keys now; every later use throws `InvalidStateError`. */
  dispose(): void {
    this.native.dispose();
  }
}

/** The password file: what the server stores per user. Not secret, but integrity matters. */
export class ServerRegistration {
  /** @internal */
  readonly native: InstanceType<typeof binding.ServerRegistration>;

  /** @internal */
  constructor(native: InstanceType<typeof binding.ServerRegistration>) {
    this.native = native;
  }

  /** Reads `serialize()` output; bad bytes throw `SerializationError` or `SizeError`. */
  static deserialize(data: Uint8Array): ServerRegistration {
    const b = bytes(data, 'data');
    return new ServerRegistration(call(() => binding.ServerRegistration.deserialize(b)));
  }

  /** Reads the bare opaque-ke layout of `suite` (a `@serenity-kit/opaque` registration record). */
  static fromRaw(suite: Suite, raw: Uint8Array): ServerRegistration {
    const s = suiteArg(suite);
    const b = bytes(raw, 'raw');
    return new ServerRegistration(call(() => binding.ServerRegistration.fromRaw(s, b)));
  }

  /** The password file with a header naming format and suite: what to store per user. */
  serialize(): Uint8Array {
    return this.native.serialize(false);
  }

  /** The password file in the bare opaque-ke layout. */
  serializeRaw(): Uint8Array {
    return this.native.serialize(true);
  }

  /** The cipher suite of this record. */
  get suite(): Suite {
    return this.native.suite;
  }
}

type NativeState = {
  serialize(raw: boolean): Uint8Array;
  readonly suite: Suite;
  readonly isSpent: boolean;
  dispose(): void;
};
type NativeStateClass<N extends NativeState> = {
  deserialize(bytes: Uint8Array): N;
  fromRaw(suite: Binding.Suite, raw: Uint8Array): N;
};

/** Shared behaviour of the three state classes. */
abstract class ProtocolState<N extends NativeState> {
  /** @internal */
  readonly native: N;

  /** @internal */
  constructor(native: N) {
    this.native = native;
  }

  /** Copies the state out (with a header). Whoever holds it can finish the flow. */
  serialize(): Uint8Array {
    return call(() => this.native.serialize(false));
  }

  /** Copies the state out in the bare opaque-ke layout. */
  serializeRaw(): Uint8Array {
    return call(() => this.native.serialize(true));
  }

  /** The cipher suite of this state. */
  get suite(): Suite {
    return this.native.suite;
  }

  /** True once the state was used by a finish call or disposed. */
  get isSpent(): boolean {
    return this.native.isSpent;
  }

  /** Wipes the state now; every later use throws `InvalidStateError`. */
  dispose(): void {
    this.native.dispose();
  }
}

/** A state class over one native class, with its two readers. */
function stateClass<N extends NativeState>(cls: NativeStateClass<N>) {
  return class extends ProtocolState<N> {
    /** Reads `serialize()` output; the header must name this kind of state. */
    static deserialize<T>(this: new (native: N) => T, data: Uint8Array): T {
      const b = bytes(data, 'data');
      return new this(call(() => cls.deserialize(b)));
    }

    /** Reads the bare opaque-ke bytes of `suite`. */
    static fromRaw<T>(this: new (native: N) => T, suite: Suite, raw: Uint8Array): T {
      const s = suiteArg(suite);
      const b = bytes(raw, 'raw');
      return new this(call(() => cls.fromRaw(s, b)));
    }
  };
}

/** The client's secret between registration start and finish: single use, holds the blind. */
export class ClientRegistrationState extends stateClass(binding.ClientRegistrationState) {}

/** The client's secret between login start and finish: single use, holds the blind and ephemeral keys. */
export class ClientLoginState extends stateClass(binding.ClientLoginState) {}

/**
 * Lets its holder finish a login without the password: it must never leave
 * the server unsealed.
 */
export class ServerLoginState extends stateClass(binding.ServerLoginState) {}
