import type { TextOrBytes } from '../bytes';
import { constantTimeEqual } from '../bytes';
import { login, registration } from './flows';
import type { ClientLoginState, ClientRegistrationState } from './objects';
import { merge, suiteArg } from './params';
import type { ClientParams, ClientStart, KeyStretching, LoginResult, RegistrationResult, Suite } from './types';

export interface OpaqueClientOptions extends ClientParams {
  suite?: Suite;
  keyStretching?: KeyStretching;
}

/**
 * The client side of OPAQUE. Options given here are the defaults of every
 * call; the `params` of a call override them.
 */
export class OpaqueClient {
  readonly suite: Suite;
  private readonly defaults: ClientParams;

  constructor(options: OpaqueClientOptions = {}) {
    const { suite, ...defaults } = options;
    this.suite = suiteArg(suite);
    this.defaults = defaults;
  }

  startRegistration(password: TextOrBytes): ClientStart<ClientRegistrationState> {
    return registration.client.start(password, { suite: this.suite });
  }

  finishRegistration(
    state: ClientRegistrationState,
    password: TextOrBytes,
    response: Uint8Array,
    params?: ClientParams,
  ): Promise<RegistrationResult> {
    return registration.client.finish(state, password, response, merge(this.defaults, params));
  }

  finishRegistrationSync(
    state: ClientRegistrationState,
    password: TextOrBytes,
    response: Uint8Array,
    params?: ClientParams,
  ): RegistrationResult {
    return registration.client.finishSync(state, password, response, merge(this.defaults, params));
  }

  startLogin(password: TextOrBytes): ClientStart<ClientLoginState> {
    return login.client.start(password, { suite: this.suite });
  }

  finishLogin(state: ClientLoginState, password: TextOrBytes, response: Uint8Array, params?: ClientParams): Promise<LoginResult> {
    return login.client.finish(state, password, response, merge(this.defaults, params));
  }

  finishLoginSync(state: ClientLoginState, password: TextOrBytes, response: Uint8Array, params?: ClientParams): LoginResult {
    return login.client.finishSync(state, password, response, merge(this.defaults, params));
  }

  /** True when the server's key is the expected one; compared in constant time. */
  static verifyServerPublicKey(expected: Uint8Array, actual: Uint8Array): boolean {
    return constantTimeEqual(expected, actual);
  }
}
