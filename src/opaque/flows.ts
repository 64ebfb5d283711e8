/**
 * The low-level mirrors of RFC 9807: one function per protocol step, explicit
 * parameter objects. `OpaqueClient`/`OpaqueServer` are built on these.
 */
import { bytes, type TextOrBytes, textOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call, callAsync } from '../native';
import { ClientLoginState, ClientRegistrationState, ServerLoginState, ServerRegistration, ServerSetup } from './objects';
import { clientParamsArg, optionsArg, serverParamsArg, suiteArg } from './params';
import type { ClientParams, ClientStart, LoginResult, RegistrationResult, ServerParams, Suite } from './types';

export interface SuiteOption {
  /** `ristretto255_sha512` by default; an unknown name throws `InvalidArgumentError`. */
  suite?: Suite;
}

function stateArg<T>(state: unknown, cls: abstract new (...args: never[]) => T, name: string): T {
  if (state instanceof cls) return state;
  throw new InvalidArgumentError(`state must be a ${name}`);
}

/** Validates a client finish call's arguments, shared by the async and sync forms. */
function finishArgs<T>(
  state: unknown,
  cls: abstract new (...args: never[]) => T,
  name: string,
  password: TextOrBytes,
  response: Uint8Array,
  params: ClientParams | undefined,
) {
  return [stateArg(state, cls, name), textOrBytes(password, 'password'), bytes(response, 'response'), clientParamsArg(params)] as const;
}

function setupArg(setup: unknown): ServerSetup {
  if (setup instanceof ServerSetup) return setup;
  throw new InvalidArgumentError('setup must be a ServerSetup');
}

/** Registration steps: `client.start` → `server.start` → `client.finish` → `server.finish`. */
export const registration = {
  client: {
    /** Blinds the password into a registration request; the state is single use. */
    start(password: TextOrBytes, options: SuiteOption = {}): ClientStart<ClientRegistrationState> {
      const suite = suiteArg(optionsArg(options, 'options')?.suite);
      const pw = textOrBytes(password, 'password');
      const { request, state } = call(() => binding.clientRegistrationStart(suite, pw));
      return { request, state: new ClientRegistrationState(state) };
    },

    /** Runs Argon2id on the libuv thread pool. */
    finish(state: ClientRegistrationState, password: TextOrBytes, response: Uint8Array, params?: ClientParams): Promise<RegistrationResult> {
      const [s, pw, r, p] = finishArgs(state, ClientRegistrationState, 'ClientRegistrationState', password, response, params);
      return callAsync(() => binding.clientRegistrationFinish(s.native, pw, r, p));
    },

    /** Blocks the event loop for the whole key stretching. */
    finishSync(state: ClientRegistrationState, password: TextOrBytes, response: Uint8Array, params?: ClientParams): RegistrationResult {
      const [s, pw, r, p] = finishArgs(state, ClientRegistrationState, 'ClientRegistrationState', password, response, params);
      return call(() => binding.clientRegistrationFinishSync(s.native, pw, r, p));
    },
  },

  server: {
    /** Evaluates the OPRF for `credentialIdentifier`; malformed requests throw `SerializationError`/`SizeError`. */
    start(setup: ServerSetup, request: Uint8Array, credentialIdentifier: TextOrBytes): Uint8Array {
      const s = setupArg(setup);
      const req = bytes(request, 'request');
      const id = textOrBytes(credentialIdentifier, 'credentialIdentifier');
      return call(() => s.native.registrationResponse(req, id));
    },

    /** Checks the client's upload and returns the password file to store. */
    finish(upload: Uint8Array, options: SuiteOption = {}): ServerRegistration {
      const suite = suiteArg(optionsArg(options, 'options')?.suite);
      const u = bytes(upload, 'upload');
      return new ServerRegistration(call(() => binding.ServerRegistration.fromUpload(suite, u)));
    },
  },
};

/** Login steps: `client.start` → `server.start` → `client.finish` → `server.finish`. */
export const login = {
  client: {
    /** Blinds the password into a login request (KE1); the state is single use. */
    start(password: TextOrBytes, options: SuiteOption = {}): ClientStart<ClientLoginState> {
      const suite = suiteArg(optionsArg(options, 'options')?.suite);
      const pw = textOrBytes(password, 'password');
      const { request, state } = call(() => binding.clientLoginStart(suite, pw));
      return { request, state: new ClientLoginState(state) };
    },

    /** Runs Argon2id on the libuv thread pool. A wrong password rejects with `InvalidLoginError`. */
    finish(state: ClientLoginState, password: TextOrBytes, response: Uint8Array, params?: ClientParams): Promise<LoginResult> {
      const [s, pw, r, p] = finishArgs(state, ClientLoginState, 'ClientLoginState', password, response, params);
      return callAsync(() => binding.clientLoginFinish(s.native, pw, r, p));
    },

    /** Blocks the event loop for the whole key stretching. */
    finishSync(state: ClientLoginState, password: TextOrBytes, response: Uint8Array, params?: ClientParams): LoginResult {
      const [s, pw, r, p] = finishArgs(state, ClientLoginState, 'ClientLoginState', password, response, params);
      return call(() => binding.clientLoginFinishSync(s.native, pw, r, p));
    },
  },

  server: {
    /**
     * Answers a login request. Pass `null` for an unknown user: the answer
     * comes from a fake record and looks the same on the wire.
     */
    start(
      setup: ServerSetup,
      passwordFile: ServerRegistration | null,
      request: Uint8Array,
      credentialIdentifier: TextOrBytes,
      params?: ServerParams,
    ): { response: Uint8Array; state: ServerLoginState } {
      const s = setupArg(setup);
      if (passwordFile !== null && !(passwordFile instanceof ServerRegistration)) {
        throw new InvalidArgumentError('passwordFile must be a ServerRegistration or null');
      }
      const req = bytes(request, 'request');
      const id = textOrBytes(credentialIdentifier, 'credentialIdentifier');
      const p = serverParamsArg(params);
      const { response, state } = call(() => s.native.loginStart(passwordFile?.native ?? null, req, id, p));
      return { response, state: new ServerLoginState(state) };
    },

    /** A wrong password shows here as `InvalidLoginError`. */
    finish(state: ServerLoginState, finalization: Uint8Array, params?: ServerParams): { sessionKey: Uint8Array } {
      const s = stateArg(state, ServerLoginState, 'ServerLoginState');
      const f = bytes(finalization, 'finalization');
      const p = serverParamsArg(params);
      return { sessionKey: call(() => binding.serverLoginFinish(s.native, f, p)) };
    },
  },
};
