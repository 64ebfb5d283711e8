import type { TextOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { login, registration } from './flows';
import { type ServerLoginState, type ServerRegistration, ServerSetup } from './objects';
import { merge } from './params';
import type { ServerParams } from './types';

/**
 * The server side of OPAQUE over one `ServerSetup`. The server never sees the
 * password; it stores the `ServerRegistration` each user uploads.
 */
export class OpaqueServer {
  /** The server's long-term keys and OPRF seed. */
  readonly setup: ServerSetup;
  private readonly defaults: ServerParams;

  /** `defaults` apply to every login unless a call's `params` override them; a non-`ServerSetup` throws `InvalidArgumentError`. */
  constructor(setup: ServerSetup, defaults: ServerParams = {}) {
    if (!(setup instanceof ServerSetup)) throw new InvalidArgumentError('setup must be a ServerSetup');
    this.setup = setup;
    this.defaults = defaults;
  }

  /** The server's static public key, for clients to pin (`serverPublicKey`). */
  get publicKey(): Uint8Array {
    return this.setup.publicKey;
  }

  /**
   * Answers a registration request. `credentialIdentifier` (e.g. the username) seeds
   * this user's OPRF key: use the same one at login. Malformed requests throw
   * `SerializationError`/`SizeError`.
   */
  startRegistration(request: Uint8Array, credentialIdentifier: TextOrBytes): Uint8Array {
    return registration.server.start(this.setup, request, credentialIdentifier);
  }

  /** Checks the client's upload and returns the password file to store; malformed bytes throw `SerializationError`/`SizeError`. */
  finishRegistration(upload: Uint8Array): ServerRegistration {
    return registration.server.finish(upload, { suite: this.setup.suite });
  }

  /** `passwordFile === null` (unknown user) answers from a fake record, indistinguishably. */
  startLogin(
    passwordFile: ServerRegistration | null,
    request: Uint8Array,
    credentialIdentifier: TextOrBytes,
    params?: ServerParams,
  ): { response: Uint8Array; state: ServerLoginState } {
    return login.server.start(this.setup, passwordFile, request, credentialIdentifier, merge(this.defaults, params));
  }

  /** Verifies the client's finalization (KE3); a wrong password throws `InvalidLoginError`. The state is spent either way. */
  finishLogin(state: ServerLoginState, finalization: Uint8Array, params?: ServerParams): { sessionKey: Uint8Array } {
    return login.server.finish(state, finalization, merge(this.defaults, params));
  }
}
