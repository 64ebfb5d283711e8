import type * as Binding from '../../native/binding';
import type { TextOrBytes } from '../bytes';
import { binding } from '../native';

/**
 * An OPAQUE cipher suite (the names are the core's list, crates/opaque/src/suite.rs, through the binding).
 * `ml_kem_768_ristretto255_sha512` mixes ML-KEM-768 into the key exchange for
 * passive post-quantum confidentiality; it is not an RFC 9807 configuration
 * and only keyward peers speak it.
 */
export type Suite = `${Binding.Suite}`;

/** Every suite name `Suite` accepts; the first is the default. */
export const suites: readonly Suite[] = Object.freeze(Object.values(binding.Suite));

/** Argon2id parameters; `memory` in KiB. */
export interface Argon2idParams {
  iterations: number;
  memory: number;
  parallelism: number;
}

/**
 * `memory-constrained` (t=3, m=64 MiB, p=4; the default), `rfc-recommended`
 * (t=1, m=2 GiB − 1 KiB, p=4), or explicit Argon2id parameters.
 */
export type KeyStretching = KeyStretchingPreset | Argon2idParams;

/** The named key-stretching presets. */
export type KeyStretchingPreset = `${Binding.KeyStretchingPreset}`;

/** Client and server identities bound into the login; both sides must agree. */
export interface Identifiers {
  client?: TextOrBytes;
  server?: TextOrBytes;
}

/** Per-login parameters of the server; both sides must pass equal values or the login fails with `InvalidLoginError`. */
export interface ServerParams {
  /** Identities bound into the key exchange; the public keys by default (RFC 9807). */
  identifiers?: Identifiers;
  /** Application context bound into the handshake; both sides must agree. */
  context?: TextOrBytes;
}

/** Per-call parameters of the client. */
export interface ClientParams extends ServerParams {
  /** Argon2id costs; must equal those used at registration. */
  keyStretching?: KeyStretching;
  /** Refuse the server unless its static public key equals this one. */
  serverPublicKey?: Uint8Array;
}

/** What a client start step returns. */
export interface ClientStart<S> {
  /** Send to the server. */
  request: Uint8Array;
  /** Keep for the finish call; single use. */
  state: S;
}

/** What the client's registration finish returns. */
export interface RegistrationResult {
  /** Send to the server; it becomes the password file. */
  upload: Uint8Array;
  /** A key only the client can recompute; use it to encrypt user data. */
  exportKey: Uint8Array;
  /** The server's static key, to pin for later logins. */
  serverPublicKey: Uint8Array;
}

/** What the client's login finish returns. */
export interface LoginResult {
  /** Send to the server to finish the login. */
  finalization: Uint8Array;
  /** The key shared with the server (the suite's hash length, 64 bytes for SHA-512); a secret (e.g. the input of `derivePopKey`). */
  sessionKey: Uint8Array;
  /** The same `exportKey` as at registration. */
  exportKey: Uint8Array;
  /** The server's static key. */
  serverPublicKey: Uint8Array;
}
