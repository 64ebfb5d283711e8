/**
 * The server setup, the password file and the single-use protocol states.
 * Each wraps a Rust object: secret bytes stay in Rust until `serialize()`.
 */
import { bytes } from '../bytes';
import { binding, call } from '../native';
import { suiteArg } from './params';
import type { Suite } from './types';

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

  /** Reads keyward's serialization, which names its suite. */
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
    return call(() => this.native.serialize());
  }

  /** The secret setup in the bare opaque-ke layout. */
  serializeRaw(): Uint8Array {
    return call(() => this.native.serializeRaw());
  }

  get publicKey(): Uint8Array {
    return call(() => this.native.publicKey);
  }

  get suite(): Suite {
    return call(() => this.native.suite) as Suite;
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

  static deserialize(data: Uint8Array): ServerRegistration {
    const b = bytes(data, 'data');
    return new ServerRegistration(call(() => binding.ServerRegistration.deserialize(b)));
  }

  static fromRaw(suite: Suite, raw: Uint8Array): ServerRegistration {
    const s = suiteArg(suite);
    const b = bytes(raw, 'raw');
    return new ServerRegistration(call(() => binding.ServerRegistration.fromRaw(s, b)));
  }

  serialize(): Uint8Array {
    return this.native.serialize();
  }

  serializeRaw(): Uint8Array {
    return this.native.serializeRaw();
  }

  get suite(): Suite {
    return this.native.suite as Suite;
  }
}

type NativeStateClass = {
  deserialize(bytes: Uint8Array): NativeState;
  fromRaw(suite: string, raw: Uint8Array): NativeState;
};
type NativeState = {
  serialize(): Uint8Array;
  serializeRaw(): Uint8Array;
  readonly suite: string;
  readonly isSpent: boolean;
  dispose(): void;
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
    return call(() => this.native.serialize());
  }

  /** Copies the state out in the bare opaque-ke layout. */
  serializeRaw(): Uint8Array {
    return call(() => this.native.serializeRaw());
  }

  get suite(): Suite {
    return this.native.suite as Suite;
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

function reader<N extends NativeState, S>(cls: NativeStateClass, wrap: (n: N) => S) {
  return {
    deserialize(data: Uint8Array): S {
      const b = bytes(data, 'data');
      return wrap(call(() => cls.deserialize(b)) as N);
    },
    fromRaw(suite: Suite, raw: Uint8Array): S {
      const s = suiteArg(suite);
      const b = bytes(raw, 'raw');
      return wrap(call(() => cls.fromRaw(s, b)) as N);
    },
  };
}

type NativeClientRegistrationState = InstanceType<typeof binding.ClientRegistrationState>;
type NativeClientLoginState = InstanceType<typeof binding.ClientLoginState>;
type NativeServerLoginState = InstanceType<typeof binding.ServerLoginState>;

export class ClientRegistrationState extends ProtocolState<NativeClientRegistrationState> {
  private static readonly read = reader(binding.ClientRegistrationState, (n: NativeClientRegistrationState) => new ClientRegistrationState(n));
  static deserialize(data: Uint8Array): ClientRegistrationState {
    return ClientRegistrationState.read.deserialize(data);
  }
  static fromRaw(suite: Suite, raw: Uint8Array): ClientRegistrationState {
    return ClientRegistrationState.read.fromRaw(suite, raw);
  }
}

export class ClientLoginState extends ProtocolState<NativeClientLoginState> {
  private static readonly read = reader(binding.ClientLoginState, (n: NativeClientLoginState) => new ClientLoginState(n));
  static deserialize(data: Uint8Array): ClientLoginState {
    return ClientLoginState.read.deserialize(data);
  }
  static fromRaw(suite: Suite, raw: Uint8Array): ClientLoginState {
    return ClientLoginState.read.fromRaw(suite, raw);
  }
}

/**
 * Lets its holder finish a login without the password: it must never leave
 * the server unsealed.
 */
export class ServerLoginState extends ProtocolState<NativeServerLoginState> {
  private static readonly read = reader(binding.ServerLoginState, (n: NativeServerLoginState) => new ServerLoginState(n));
  static deserialize(data: Uint8Array): ServerLoginState {
    return ServerLoginState.read.deserialize(data);
  }
  static fromRaw(suite: Suite, raw: Uint8Array): ServerLoginState {
    return ServerLoginState.read.fromRaw(suite, raw);
  }
}
