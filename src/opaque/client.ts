import type { TextOrBytes } from '../bytes';
import { constantTimeEqual } from '../bytes';
import { login, registration } from './flows';
import type { ClientLoginState, ClientRegistrationState } from './objects';
import { merge, optionsArg, suiteArg } from './params';
import type { ClientParams, ClientStart, KeyStretching, LoginResult, RegistrationResult, Suite } from './types';

/** Defaults for every call of an `OpaqueClient`; a call's own `params` override them field by field. */
export interface OpaqueClientOptions extends ClientParams {
  /** The cipher suite; `ristretto255_sha512` by default. Must match the server's `ServerSetup`. */
  suite?: Suite;
  /** Argon2id costs run on the password at each finish; `memory-constrained` by default. Both sides of one user must use the same. */
  keyStretching?: KeyStretching;
}

/**
 * The client side of OPAQUE. Options given here are the defaults of every
 * call; the `params` of a call override them.
 */
export class OpaqueClient {
  /** The suite every message of this client uses. */
  readonly suite: Suite;
  private readonly defaults: ClientParams;

  /** Throws `InvalidArgumentError` (`ERR_INVALID_ARG_VALUE`) for an unknown `suite`. */
  constructor(options: OpaqueClientOptions = {}) {
    const { suite, ...defaults } = optionsArg(options, 'options') ?? {};
    this.suite = suiteArg(suite);
    this.defaults = defaults;
  }

  /**
   * Blinds the password into a registration request for the server; keep the
   * single-use `state` for `finishRegistration`. A string password is UTF-8.
   */
  startRegistration(password: TextOrBytes): ClientStart<ClientRegistrationState> {
    return registration.client.start(password, { suite: this.suite });
  }

  /**
   * Runs Argon2id on the libuv pool and builds the `upload` for the server.
   * Rejects with `InvalidArgumentError` for bad arguments, `InvalidStateError` for
   * a spent state, `SerializationError`/`SizeError` for a malformed `response`.
   */
  finishRegistration(state: ClientRegistrationState, password: TextOrBytes, response: Uint8Array, params?: ClientParams): Promise<RegistrationResult> {
    return registration.client.finish(state, password, response, merge(this.defaults, params));
  }

  /** `finishRegistration` on the calling thread: blocks the event loop for the whole Argon2id run; throws what it rejects with. */
  finishRegistrationSync(state: ClientRegistrationState, password: TextOrBytes, response: Uint8Array, params?: ClientParams): RegistrationResult {
    return registration.client.finishSync(state, password, response, merge(this.defaults, params));
  }

  /** Blinds the password into a login request (KE1); keep the single-use `state` for `finishLogin`. */
  startLogin(password: TextOrBytes): ClientStart<ClientLoginState> {
    return login.client.start(password, { suite: this.suite });
  }

  /**
   * Runs Argon2id on the libuv pool and authenticates the server. Rejects with
   * `InvalidLoginError` (`ERR_OPAQUE_INVALID_LOGIN`) for a wrong password, an unknown
   * user, a server key other than `serverPublicKey`, or mismatched identifiers/context.
   */
  finishLogin(state: ClientLoginState, password: TextOrBytes, response: Uint8Array, params?: ClientParams): Promise<LoginResult> {
    return login.client.finish(state, password, response, merge(this.defaults, params));
  }

  /** `finishLogin` on the calling thread: blocks the event loop for the whole Argon2id run. */
  finishLoginSync(state: ClientLoginState, password: TextOrBytes, response: Uint8Array, params?: ClientParams): LoginResult {
    return login.client.finishSync(state, password, response, merge(this.defaults, params));
  }

  /** True when the server's key is the expected one; compared in constant time. */
  static verifyServerPublicKey(expected: Uint8Array, actual: Uint8Array): boolean {
    return constantTimeEqual(expected, actual);
  }
}
