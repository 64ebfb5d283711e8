/**
 * Proof-of-possession keys (docs/pop.md): derived from an OPAQUE session key
 * and the session id; the key bytes stay in Rust.
 */
import { inspect } from 'node:util';
import { bytes, type TextOrBytes, textOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';

type NativePopKey = InstanceType<typeof binding.PopKey>;
const encoder = new TextEncoder();

/**
 * A session's PoP key. It holds a bearer (a session token) and a handle on
 * the key in Rust, so it shows only its session id: `JSON.stringify` and
 * `util.inspect` (console.log, loggers) print `{ sessionId }`, and the
 * bearer is not an own property (spreading or `Object.entries` miss it).
 */
export class PopKey {
  /** @internal */
  readonly native: NativePopKey;
  /** The session this key belongs to: the salt of its derivation. */
  readonly sessionId: string;
  readonly #bearer: string;
  /** @internal The key's handle for verification, read once. */
  readonly handle: number;

  private constructor(native: NativePopKey, sessionId: string, bearer: string) {
    this.native = native;
    this.sessionId = sessionId;
    this.#bearer = bearer;
    this.handle = native.handle;
  }

  /** What requests carry as `Authorization: Bearer …`: the session id, or a session token. */
  get bearer(): string {
    return this.#bearer;
  }

  /** Only the session id: a PoP key serialized into a log or a response shows no token. */
  toJSON(): { sessionId: string } {
    return { sessionId: this.sessionId };
  }

  /** `PopKey { sessionId: '…' }` in `util.inspect` and `console.log`. */
  [inspect.custom](_depth: number, options: { stylize: (text: string, style: string) => string }): string {
    return `PopKey { sessionId: ${options.stylize(`'${this.sessionId}'`, 'string')} }`;
  }

  /** @internal */
  static wrap(native: NativePopKey, sessionId: string, bearer?: string): PopKey {
    return new PopKey(native, sessionId, bearer === undefined ? sessionId : sessionIdArg(bearer));
  }

  /**
   * Rebuilds a key from `exportBytes()` (for example out of a sealed session token).
   * `key` must be 32 bytes and `sessionId` 1–512 b64token characters, else
   * `InvalidArgumentError`.
   */
  static fromBytes(key: Uint8Array, sessionId: string, options?: { bearer?: string }): PopKey {
    const k = bytes(key, 'key');
    return PopKey.wrap(
      call(() => binding.PopKey.fromBytes(k)),
      sessionIdArg(sessionId),
      options?.bearer,
    );
  }

  /** Copies the 32 key bytes out of Rust; only to seal them into a token or store. */
  exportBytes(): Uint8Array {
    return call(() => this.native.exportBytes());
  }

  /** Wipes the key in Rust now; later signing or verifying with it throws `InvalidStateError`. */
  dispose(): void {
    this.native.dispose();
  }
}

/** The RFC 9421 `keyid` limit of crates/pop (rfc9421.rs), which a session id is signed as. */
const MAX_SESSION_ID = binding.POP_MAX_SESSION_ID_CHARS;
const sessionIdPattern = new RegExp(`^[A-Za-z0-9._~+/=-]{1,${MAX_SESSION_ID}}$`);

export function sessionIdArg(sessionId: unknown): string {
  if (typeof sessionId !== 'string' || !sessionIdPattern.test(sessionId)) {
    throw new InvalidArgumentError(`sessionId must be 1–${MAX_SESSION_ID} characters of a bearer token (RFC 6750 b64token)`);
  }
  return sessionId;
}

/**
 * `HKDF-SHA256(ikm = sessionKey, salt = sessionId, info = "keyward pop v1")`.
 * `bearer` is what the requests present (a session token); the session id by default.
 * `sessionId` must be 1–512 b64token characters (RFC 6750), else `InvalidArgumentError`.
 */
export function derivePopKey(sessionKey: Uint8Array, sessionId: string, options?: { bearer?: string }): PopKey {
  const key = bytes(sessionKey, 'sessionKey');
  const id = sessionIdArg(sessionId);
  return PopKey.wrap(
    call(() => binding.PopKey.derive(key, encoder.encode(id))),
    id,
    options?.bearer,
  );
}

export function bodyBytes(body: TextOrBytes | undefined | null): Uint8Array {
  return body === undefined || body === null ? new Uint8Array(0) : textOrBytes(body, 'body');
}
