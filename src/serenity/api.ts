/**
 * The `@serenity-kit/opaque` 1.1 API over keyward's core: same function names,
 * argument objects, return shapes and base64url strings, and the same bytes
 * for setups, records and states, so a server can swap the import and keep
 * what it stored. `finishLogin` on the client returns `undefined` when the
 * login fails, as serenity's does; malformed input throws.
 */
import { decodeBase64Url, encodeBase64Url } from '../bytes';
import { InvalidArgumentError, KeywardError } from '../errors';
import { binding } from '../native';
import { login, registration } from '../opaque/flows';
import { ClientLoginState, ClientRegistrationState, ServerLoginState, ServerRegistration, ServerSetup } from '../opaque/objects';
import type { ClientParams, KeyStretching, Suite } from '../opaque/types';

export type KeyStretchingFunctionConfig =
  | 'rfc-recommended'
  | 'rfc-draft-recommended'
  | 'memory-constrained'
  | { 'argon2id-custom': { iterations: number; memory: number; parallelism: number } };

export interface CustomIdentifiers {
  client?: string;
  server?: string;
}

export interface StartRegistrationParams {
  password: string;
}
export interface StartRegistrationResult {
  clientRegistrationState: string;
  registrationRequest: string;
}
export interface FinishRegistrationParams {
  password: string;
  registrationResponse: string;
  clientRegistrationState: string;
  identifiers?: CustomIdentifiers;
  keyStretching?: KeyStretchingFunctionConfig;
}
export interface FinishRegistrationResult {
  registrationRecord: string;
  exportKey: string;
  serverStaticPublicKey: string;
}
export interface StartLoginParams {
  password: string;
}
export interface StartLoginResult {
  clientLoginState: string;
  startLoginRequest: string;
}
export interface FinishLoginParams {
  clientLoginState: string;
  loginResponse: string;
  password: string;
  identifiers?: CustomIdentifiers;
  keyStretching?: KeyStretchingFunctionConfig;
}
export interface FinishLoginResult {
  finishLoginRequest: string;
  sessionKey: string;
  exportKey: string;
  serverStaticPublicKey: string;
}
export interface CreateRegistrationResponseParams {
  serverSetup: string;
  userIdentifier: string;
  registrationRequest: string;
}
export interface CreateRegistrationResponseResult {
  registrationResponse: string;
}
export interface LoginStartParams {
  serverSetup: string;
  registrationRecord: string | null | undefined;
  startLoginRequest: string;
  userIdentifier: string;
  identifiers?: CustomIdentifiers;
}
export interface LoginStartResult {
  serverLoginState: string;
  loginResponse: string;
}
export interface LoginFinishParams {
  serverLoginState: string;
  finishLoginRequest: string;
  identifiers?: CustomIdentifiers;
}
export interface LoginFinishResult {
  sessionKey: string;
}

/** Serenity's configuration names (its API, which happen to be keyward's too) to keyward's presets. */
function keyStretching(config: KeyStretchingFunctionConfig | undefined): KeyStretching | undefined {
  const { MemoryConstrained, RfcRecommended } = binding.KeyStretchingPreset;
  if (config === undefined || config === 'memory-constrained') return MemoryConstrained;
  if (config === 'rfc-recommended' || config === 'rfc-draft-recommended') return RfcRecommended;
  if (typeof config === 'object' && config !== null && 'argon2id-custom' in config) return config['argon2id-custom'];
  throw new InvalidArgumentError(`unknown keyStretching configuration ${typeof config === 'string' ? JSON.stringify(config) : `of type ${typeof config}`}`);
}

function clientParams(p: { identifiers?: CustomIdentifiers; keyStretching?: KeyStretchingFunctionConfig }): ClientParams {
  return { identifiers: p.identifiers, keyStretching: keyStretching(p.keyStretching) };
}

/** serenity's functions take one object; anything else is an `InvalidArgumentError`, not a TypeError from a property read. */
function paramsArg(params: unknown): void {
  if (typeof params !== 'object' || params === null) throw new InvalidArgumentError('params must be an object');
}

const b64 = encodeBase64Url;
const unb64 = decodeBase64Url;

/** Client-side protocol failures become `undefined`; bad input still throws. */
function loginFailure(error: unknown): undefined {
  if (error instanceof KeywardError && (error.code === 'ERR_OPAQUE_INVALID_LOGIN' || error.code === 'ERR_OPAQUE_REFLECTED_VALUE')) {
    return undefined;
  }
  throw error;
}

/** @internal The `{ ready, client, server }` of one suite. */
export function serenityApi(suite: Suite) {
  const setupOf = (s: string) => ServerSetup.fromRaw(suite, unb64(s));

  const client = {
    /** Blinds `password`; keep `clientRegistrationState` (a secret) for `finishRegistration`. */
    startRegistration(params: StartRegistrationParams): StartRegistrationResult {
      paramsArg(params);
      const { request, state } = registration.client.start(params.password, { suite });
      return { clientRegistrationState: b64(state.serializeRaw()), registrationRequest: b64(request) };
    },

    /** Runs Argon2id on the calling thread; malformed base64url or bytes throw a `KeywardError`. */
    finishRegistration(params: FinishRegistrationParams): FinishRegistrationResult {
      paramsArg(params);
      const state = ClientRegistrationState.fromRaw(suite, unb64(params.clientRegistrationState));
      const r = registration.client.finishSync(state, params.password, unb64(params.registrationResponse), clientParams(params));
      return { registrationRecord: b64(r.upload), exportKey: b64(r.exportKey), serverStaticPublicKey: b64(r.serverPublicKey) };
    },

    /** keyward addition: the same, with Argon2id off the event loop. */
    async finishRegistrationAsync(params: FinishRegistrationParams): Promise<FinishRegistrationResult> {
      paramsArg(params);
      const state = ClientRegistrationState.fromRaw(suite, unb64(params.clientRegistrationState));
      const r = await registration.client.finish(state, params.password, unb64(params.registrationResponse), clientParams(params));
      return { registrationRecord: b64(r.upload), exportKey: b64(r.exportKey), serverStaticPublicKey: b64(r.serverPublicKey) };
    },

    /** Blinds `password` into a login request; keep `clientLoginState` (a secret) for `finishLogin`. */
    startLogin(params: StartLoginParams): StartLoginResult {
      paramsArg(params);
      const { request, state } = login.client.start(params.password, { suite });
      return { clientLoginState: b64(state.serializeRaw()), startLoginRequest: b64(request) };
    },

    /** `undefined` for a failed login (wrong password, unknown user, another server); malformed input throws. */
    finishLogin(params: FinishLoginParams): FinishLoginResult | undefined {
      paramsArg(params);
      const state = ClientLoginState.fromRaw(suite, unb64(params.clientLoginState));
      const response = unb64(params.loginResponse);
      try {
        return loginOut(login.client.finishSync(state, params.password, response, clientParams(params)));
      } catch (error) {
        return loginFailure(error);
      }
    },

    /** keyward addition: the same, with Argon2id off the event loop. */
    async finishLoginAsync(params: FinishLoginParams): Promise<FinishLoginResult | undefined> {
      paramsArg(params);
      const state = ClientLoginState.fromRaw(suite, unb64(params.clientLoginState));
      const response = unb64(params.loginResponse);
      try {
        return loginOut(await login.client.finish(state, params.password, response, clientParams(params)));
      } catch (error) {
        return loginFailure(error);
      }
    },
  };

  const server = {
    /** A new server setup in the raw layout, base64url: a secret to store. */
    createSetup(): string {
      return b64(ServerSetup.generate(suite).serializeRaw());
    },

    /** The setup's static public key, base64url. */
    getPublicKey(serverSetup: string): string {
      return b64(setupOf(serverSetup).publicKey);
    },

    /** Answers a registration request for `userIdentifier` (use the same one at login). */
    createRegistrationResponse(params: CreateRegistrationResponseParams): CreateRegistrationResponseResult {
      paramsArg(params);
      const response = registration.server.start(setupOf(params.serverSetup), unb64(params.registrationRequest), params.userIdentifier);
      return { registrationResponse: b64(response) };
    },

    /** Answers a login request; without `registrationRecord` it answers from a fake record. Keep `serverLoginState` secret. */
    startLogin(params: LoginStartParams): LoginStartResult {
      paramsArg(params);
      const record = params.registrationRecord ? ServerRegistration.fromRaw(suite, unb64(params.registrationRecord)) : null;
      const { response, state } = login.server.start(setupOf(params.serverSetup), record, unb64(params.startLoginRequest), params.userIdentifier, {
        identifiers: params.identifiers,
      });
      return { serverLoginState: b64(state.serializeRaw()), loginResponse: b64(response) };
    },

    /** Verifies the client's finish request; a wrong password throws `InvalidLoginError`. */
    finishLogin(params: LoginFinishParams): LoginFinishResult {
      paramsArg(params);
      const state = ServerLoginState.fromRaw(suite, unb64(params.serverLoginState));
      const { sessionKey } = login.server.finish(state, unb64(params.finishLoginRequest), { identifiers: params.identifiers });
      return { sessionKey: b64(sessionKey) };
    },
  };

  return { ready: Promise.resolve(), client, server };
}

function loginOut(r: { finalization: Uint8Array; sessionKey: Uint8Array; exportKey: Uint8Array; serverPublicKey: Uint8Array }): FinishLoginResult {
  return {
    finishLoginRequest: b64(r.finalization),
    sessionKey: b64(r.sessionKey),
    exportKey: b64(r.exportKey),
    serverStaticPublicKey: b64(r.serverPublicKey),
  };
}
