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
  readonly setup: ServerSetup;
  private readonly defaults: ServerParams;

  constructor(setup: ServerSetup, defaults: ServerParams = {}) {
    if (!(setup instanceof ServerSetup)) throw new InvalidArgumentError('setup must be a ServerSetup');
    this.setup = setup;
    this.defaults = defaults;
  }

  get publicKey(): Uint8Array {
    return this.setup.publicKey;
  }

  startRegistration(request: Uint8Array, credentialIdentifier: TextOrBytes): Uint8Array {
    return registration.server.start(this.setup, request, credentialIdentifier);
  }

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

  finishLogin(state: ServerLoginState, finalization: Uint8Array, params?: ServerParams): { sessionKey: Uint8Array } {
    return login.server.finish(state, finalization, merge(this.defaults, params));
  }
}
