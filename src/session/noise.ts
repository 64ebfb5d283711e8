/**
 * Low-level pieces under `Session`, for interoperating with other Noise
 * implementations and protocols: a plain Noise handshake and raw X25519.
 * Prefer `Session`, which adds identities, the ratchet and persistence.
 */
import { bytes, optionalTextOrBytes, type TextOrBytes, textOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';

type NativeHandshake = InstanceType<typeof binding.NoiseHandshake>;
const empty = new Uint8Array(0);

/** Options of `new NoiseHandshake`. */
export interface NoiseHandshakeOptions {
  /** `true` on the side that writes the first message. */
  initiator: boolean;
  /** Our static X25519 secret key (32 bytes), for patterns with `s`. */
  localStatic?: Uint8Array;
  /** The peer's static X25519 public key, for patterns where it is known in advance (IK, XK…). */
  remoteStatic?: Uint8Array;
  /** Bound into the handshake hash: both sides must pass the same bytes; empty by default. */
  prologue?: TextOrBytes;
}

/**
 * A plain Noise handshake (snow) for interoperating with other Noise stacks: no identities, no
 * ratchet, no replay guard. Each side alternates `write` and `read` as the pattern says; a message
 * that does not authenticate, or a step out of order, throws `SessionError` `ERR_SESSION_HANDSHAKE`.
 */
export class NoiseHandshake {
  private readonly native: NativeHandshake;

  /**
   * `protocol` is a full Noise name over 25519 and ChaChaPoly, e.g. `Noise_XX_25519_ChaChaPoly_BLAKE2b`.
   * An unsupported name or invalid keys throw `InvalidArgumentError`.
   */
  constructor(protocol: string, options: NoiseHandshakeOptions) {
    if (typeof protocol !== 'string') throw new InvalidArgumentError('protocol must be a Noise protocol name');
    if (typeof options?.initiator !== 'boolean') throw new InvalidArgumentError('initiator must be a boolean');
    const local = options.localStatic === undefined ? undefined : bytes(options.localStatic, 'localStatic');
    const remote = options.remoteStatic === undefined ? undefined : bytes(options.remoteStatic, 'remoteStatic');
    const prologue = optionalTextOrBytes(options.prologue, 'prologue') ?? empty;
    this.native = call(() => new binding.NoiseHandshake(protocol, options.initiator, local, remote, prologue));
  }

  /** The next handshake message, carrying `payload`. */
  write(payload: TextOrBytes = empty): Uint8Array {
    const p = textOrBytes(payload, 'payload');
    return call(() => this.native.step(p, true));
  }

  /** Reads the peer's next message; returns its payload. */
  read(message: Uint8Array): Uint8Array {
    const m = bytes(message, 'message');
    return call(() => this.native.step(m, false));
  }

  /**
   * The handshake hash `h` (as long as the protocol's hash output); once the handshake is finished,
   * a value both sides share, for channel binding.
   */
  get handshakeHash(): Uint8Array {
    return call(() => this.native.handshakeHash);
  }

  /** The peer's static X25519 public key, once given or learnt in the handshake; `undefined` before. */
  get remoteStatic(): Uint8Array | undefined {
    return call(() => this.native.remoteStatic) ?? undefined;
  }

  /** Drops the handshake state (snow does not zeroize its chaining key and hash); later calls throw `InvalidStateError`. */
  dispose(): void {
    this.native.dispose();
  }
}

/** X25519 (RFC 7748). An all-zero result, from a small-order public key, throws `DecryptionError`. */
export function x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const s = bytes(secretKey, 'secretKey');
  const p = bytes(publicKey, 'publicKey');
  return call(() => binding.x25519(s, p));
}
