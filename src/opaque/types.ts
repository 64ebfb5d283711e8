import type { TextOrBytes } from '../bytes';

export const suites = [
  'ristretto255_sha512',
  'p256_sha256',
  'p384_sha384',
  'p521_sha512',
  'ml_kem_768_ristretto255_sha512',
] as const;

/**
 * An OPAQUE cipher suite. `ml_kem_768_ristretto255_sha512` mixes ML-KEM-768
 * into the key exchange for passive post-quantum confidentiality; it is not an
 * RFC 9807 configuration and only keyward peers speak it.
 */
export type Suite = (typeof suites)[number];

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
export type KeyStretching = 'memory-constrained' | 'rfc-recommended' | Argon2idParams;

/** Client and server identities bound into the login; both sides must agree. */
export interface Identifiers {
  client?: TextOrBytes;
  server?: TextOrBytes;
}

export interface ServerParams {
  identifiers?: Identifiers;
  /** Application context bound into the handshake; both sides must agree. */
  context?: TextOrBytes;
}

export interface ClientParams extends ServerParams {
  keyStretching?: KeyStretching;
  /** Refuse the server unless its static public key equals this one. */
  serverPublicKey?: Uint8Array;
}

export interface ClientStart<S> {
  /** Send to the server. */
  request: Uint8Array;
  /** Keep for the finish call; single use. */
  state: S;
}

export interface RegistrationResult {
  /** Send to the server; it becomes the password file. */
  upload: Uint8Array;
  /** A key only the client can recompute; use it to encrypt user data. */
  exportKey: Uint8Array;
  serverPublicKey: Uint8Array;
}

export interface LoginResult {
  /** Send to the server to finish the login. */
  finalization: Uint8Array;
  sessionKey: Uint8Array;
  exportKey: Uint8Array;
  serverPublicKey: Uint8Array;
}
