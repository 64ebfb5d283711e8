/**
 * One error hierarchy for all of keyward. Every class carries a stable `code`
 * (Node convention) so callers can branch on `err.code` or on `instanceof`.
 */

import type * as Binding from '../native/binding';

/**
 * Every code a core's errors carry, from the binding's mirrors of the cores' lists (type-only:
 * the browser client bundles this module and loads no binding).
 */
type CoreCode =
  | `${Binding.OpaqueErrorCode}`
  | `${Binding.PopErrorCode}`
  | `${Binding.SealErrorCode}`
  | `${Binding.VaultErrorCode}`
  | `${Binding.SessionErrorCode}`
  | `${Binding.RelayErrorCode}`;

/** The base of every error keyward throws on purpose; branch on `instanceof` or on the stable `code`. */
export class KeywardError extends Error {
  /** A stable machine-readable code (`ERR_…`); the message may change between versions. */
  readonly code: string;
  constructor(message: string, code = 'ERR_KEYWARD') {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An argument of the wrong type or out of range. */
export class InvalidArgumentError extends KeywardError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_ARG_VALUE');
  }
}

/** The base of OPAQUE failures (`ERR_OPAQUE_*`). */
export class OpaqueError extends KeywardError {}

/** Wrong password, unknown user, tampered message, or mismatched identifiers/context/pin. */
export class InvalidLoginError extends OpaqueError {
  constructor(message = 'the login could not be verified') {
    super(message, 'ERR_OPAQUE_INVALID_LOGIN');
  }
}

/** The codes an `InvalidStateError` carries: OPAQUE's for a protocol state, the other for everything else. */
export type InvalidStateErrorCode = Extract<CoreCode, `${string}_INVALID_STATE`>;

/**
 * An object used after `dispose()`/`close()`, an OPAQUE state used twice or
 * for the wrong step, a finished stream, or a vault or session busy with an
 * async call. `code` is `ERR_OPAQUE_INVALID_STATE` for OPAQUE protocol
 * states and `ERR_INVALID_STATE` otherwise.
 */
export class InvalidStateError extends KeywardError {
  declare readonly code: InvalidStateErrorCode;
  constructor(message = 'this object was already used or disposed', code: InvalidStateErrorCode = 'ERR_INVALID_STATE') {
    super(message, code);
  }
}

/** @deprecated The same class as `InvalidStateError` (one class for one meaning); use that. */
export const StateError = InvalidStateError;
/** @deprecated Use `InvalidStateError`. */
export type StateError = InvalidStateError;

/** Bytes that do not decode: invalid point, wrong suite, bad header or base64url. */
export class SerializationError extends OpaqueError {
  constructor(message: string) {
    super(message, 'ERR_OPAQUE_SERIALIZATION');
  }
}

/** Bytes of the wrong length, including trailing bytes. */
export class SizeError extends OpaqueError {
  constructor(message: string) {
    super(message, 'ERR_OPAQUE_SIZE');
  }
}

/** The server reflected the client's blinded element back. */
export class ReflectedValueError extends OpaqueError {
  constructor(message = "the server reflected the client's blinded element") {
    super(message, 'ERR_OPAQUE_REFLECTED_VALUE');
  }
}

/** An internal failure of the cryptographic library. */
export class LibraryError extends OpaqueError {
  constructor(message: string) {
    super(message, 'ERR_OPAQUE_LIBRARY');
  }
}

/** The codes a `PopError` carries: the PoP core's refusals, and the verifier's own. */
export type PopErrorCode = Extract<`${Binding.PopErrorCode}`, `ERR_POP_${string}`> | 'ERR_POP_BODY_MISSING';

/**
 * A proof-of-possession check failed; `code` says which one. `status` is the
 * HTTP answer (429 for a session over its nonce cap, 401 otherwise), so a
 * framework's default error handling answers it right too.
 */
export class PopError extends KeywardError {
  declare readonly code: PopErrorCode;
  readonly status: 401 | 429;
  /** On `ERR_POP_STALE`: the verifier's clock (ms since the epoch), which the refusal tells the client so it can correct its skew. */
  readonly serverTime?: number;
  constructor(message: string, code: PopErrorCode, details?: { serverTime?: number }) {
    super(message, code);
    this.status = code === 'ERR_POP_RATE_LIMITED' ? 429 : 401;
    if (details?.serverTime !== undefined) this.serverTime = details.serverTime;
  }
}

/** The codes an `AuthError` carries, with the HTTP status each is answered with. */
const authStatus = {
  ERR_AUTH_BAD_REQUEST: 400,
  ERR_AUTH_USER_EXISTS: 409,
  ERR_AUTH_RATE_LIMITED: 429,
  ERR_AUTH_LOGIN_FAILED: 401,
  ERR_AUTH_REGISTRATION_DISABLED: 403,
  ERR_AUTH_REGISTRATION_REFUSED: 403,
  ERR_AUTH_REAUTHENTICATE: 403,
  ERR_AUTH_UNSUPPORTED: 501,
  ERR_AUTH_UNKNOWN_SESSION: 404,
  ERR_AUTH_RESET_GRANT: 401,
} as const;
export type AuthErrorCode = keyof typeof authStatus;

/**
 * A refused auth-service request; `status` is the HTTP status the adapters
 * answer with. A 429 (`ERR_AUTH_RATE_LIMITED`) carries `retryAfterMs`, which
 * the adapters send as `Retry-After`.
 */
export class AuthError extends KeywardError {
  declare readonly code: AuthErrorCode;
  readonly status: number;
  /** How long until the refused request may succeed; set on every `ERR_AUTH_RATE_LIMITED` (0 when the sender did not say). */
  readonly retryAfterMs?: number;
  constructor(message: string, code: AuthErrorCode, details?: { retryAfterMs?: number }) {
    super(message, code);
    this.status = authStatus[code];
    if (code === 'ERR_AUTH_RATE_LIMITED') {
      const ms = details?.retryAfterMs;
      this.retryAfterMs = typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? Math.ceil(ms) : 0;
    }
  }
}

/**
 * The codes a `SessionError` carries: the session core's own (its others are shared ones), and
 * the replay guard's (src/session).
 */
export type SessionErrorCode = Extract<`${Binding.SessionErrorCode}`, `ERR_SESSION_${string}`> | 'ERR_SESSION_REPLAY';

/**
 * An end-to-end session refused a message, bundle, handshake or record;
 * `code` says why. A message that does not authenticate is a
 * `DecryptionError` instead. The session is unchanged and stays usable.
 */
export class SessionError extends KeywardError {
  declare readonly code: SessionErrorCode;
  constructor(message: string, code: SessionErrorCode) {
    super(message, code);
  }
}

/**
 * Ciphertext that does not authenticate under the key and associated data given
 * (wrong key, tampered or truncated bytes); deliberately says no more than that.
 */
export class DecryptionError extends KeywardError {
  constructor(message = 'decryption failed', code = 'ERR_DECRYPTION') {
    super(message, code);
  }
}

/** A sealed value that authenticated but is older than the `ttl` it was opened with. */
export class TimestampExpiredError extends KeywardError {
  /** How many seconds past its time-to-live the value was (fractional). */
  readonly expiredBy: number;
  constructor(expiredBy: number, message = `expired ${expiredBy} s ago`) {
    super(message, 'ERR_TIMESTAMP_EXPIRED');
    this.expiredBy = expiredBy;
  }
}

/** A MAC that does not match its parts, associated data or key. */
export class InvalidMacError extends KeywardError {
  constructor(message = 'the MAC does not match') {
    super(message, 'ERR_INVALID_MAC');
  }
}

/** A string or file that is not in the expected format (a PHC hash, a vault manifest). */
export class FormatError extends KeywardError {
  constructor(message: string) {
    super(message, 'ERR_FORMAT');
  }
}

/** The file system refused a vault operation. */
export class VaultIoError extends KeywardError {
  constructor(message: string) {
    super(message, 'ERR_VAULT_IO');
  }
}

/**
 * A vault record that is not the one its manifest recorded: a pack was
 * changed, truncated or removed, or an older record was put back. A
 * `DecryptionError`, so code that catches tampering by class still does.
 */
export class VaultIntegrityError extends DecryptionError {
  constructor(message: string) {
    super(message, 'ERR_VAULT_INTEGRITY');
  }
}

/**
 * A `save()` or `rekey()` failed after its new manifest was in place (the
 * directory could not be synced), so the vault object is closed. Open the
 * directory again: it holds the new state (after a rekey, open it with the
 * new key). Every later call on the closed object throws this too.
 */
export class VaultPoisonedError extends KeywardError {
  constructor(message: string) {
    super(message, 'ERR_VAULT_POISONED');
  }
}

/**
 * The codes a `RelayError` carries: the wire's refusal reasons (crates/relay's
 * `ErrorCode`, mirrored by the binding's `RelayErrorCode`), and two that never
 * travel but end a connection: a handshake or a transport message that does
 * not authenticate; and the client's own `ERR_RELAY_CLOSED`, a connection
 * that failed or ended under a request.
 */
export type RelayErrorCode = `${Binding.RelayErrorCode}` | 'ERR_RELAY_HANDSHAKE' | 'ERR_RELAY_DECRYPTION' | 'ERR_RELAY_CLOSED';

/**
 * A relay refused, or a relay connection failed; `code` says why
 * (docs/relay.md "Error codes"). `retryAfterMs` is set when the relay said
 * when to try again (`ERR_RELAY_RATE_LIMITED`, `ERR_RELAY_UNAVAILABLE`).
 */
export class RelayError extends KeywardError {
  declare readonly code: RelayErrorCode;
  readonly retryAfterMs?: number;
  constructor(message: string, code: RelayErrorCode, details?: { retryAfterMs?: number }) {
    super(message, code);
    if (details?.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
}

/** What the native layer throws: its `code` and fields are properties (crates/node/src/errors.rs). */
type NativeError = Error & { code?: string; expiredBy?: number; retryAfterMs?: number };

const byCode: Partial<Record<string, (e: NativeError) => KeywardError>> = {
  ERR_OPAQUE_INVALID_LOGIN: (e) => new InvalidLoginError(e.message),
  ERR_OPAQUE_SERIALIZATION: (e) => new SerializationError(e.message),
  ERR_OPAQUE_SIZE: (e) => new SizeError(e.message),
  ERR_OPAQUE_REFLECTED_VALUE: (e) => new ReflectedValueError(e.message),
  ERR_OPAQUE_LIBRARY: (e) => new LibraryError(e.message),
  ERR_INVALID_ARG_VALUE: (e) => new InvalidArgumentError(e.message),
  ERR_DECRYPTION: (e) => new DecryptionError(e.message),
  ERR_TIMESTAMP_EXPIRED: (e) => new TimestampExpiredError(e.expiredBy ?? Number.NaN, e.message),
  ERR_INVALID_MAC: (e) => new InvalidMacError(e.message),
  ERR_FORMAT: (e) => new FormatError(e.message),
  ERR_VAULT_IO: (e) => new VaultIoError(e.message),
  ERR_VAULT_INTEGRITY: (e) => new VaultIntegrityError(e.message),
  ERR_VAULT_POISONED: (e) => new VaultPoisonedError(e.message),
  ERR_INVALID_STATE: (e) => new InvalidStateError(e.message, 'ERR_INVALID_STATE'),
  ERR_OPAQUE_INVALID_STATE: (e) => new InvalidStateError(e.message, 'ERR_OPAQUE_INVALID_STATE'),
} satisfies Partial<Record<CoreCode, (e: NativeError) => KeywardError>>;

/**
 * @internal The native layer throws errors whose `code` is the core's; this
 * turns one into the class for that code. Errors napi-rs raises itself when
 * it converts an argument (code `InvalidArg`, or a status such as
 * `NumberExpected`, `StringExpected`, `ObjectExpected`: a wrong type, also in
 * a field of an object argument) become `InvalidArgumentError`; their
 * messages name the type, not the value.
 */
export function fromNative(error: unknown): Error {
  if (!(error instanceof Error) || error instanceof KeywardError) return error as Error;
  const { code } = error as NativeError;
  if (code === 'InvalidArg' || (typeof code === 'string' && code.endsWith('Expected'))) return new InvalidArgumentError(error.message);
  if (typeof code !== 'string' || !code.startsWith('ERR_')) return error;
  if (code.startsWith('ERR_RELAY_')) return new RelayError(error.message, code as RelayErrorCode, error as NativeError);
  if (code.startsWith('ERR_SESSION_')) return new SessionError(error.message, code as SessionErrorCode);
  return byCode[code]?.(error) ?? new KeywardError(error.message, code);
}
