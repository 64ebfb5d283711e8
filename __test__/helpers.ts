import { type ClientParams, type KeyStretching, OpaqueClient, OpaqueServer, ServerSetup, type Suite } from '../src/index';

/** Argon2id at its minimum: for tests about the protocol, not the KSF. */
export const fast: KeyStretching = { iterations: 1, memory: 64, parallelism: 1 };

export interface World {
  setup: ServerSetup;
  server: OpaqueServer;
  client: OpaqueClient;
}

export function world(suite: Suite = 'ristretto255_sha512', keyStretching: KeyStretching = fast): World {
  const setup = ServerSetup.generate(suite);
  return { setup, server: new OpaqueServer(setup), client: new OpaqueClient({ suite, keyStretching }) };
}

export async function register(w: World, user: string, password: string, params?: ClientParams) {
  const { request, state } = w.client.startRegistration(password);
  const response = w.server.startRegistration(request, user);
  const result = await w.client.finishRegistration(state, password, response, params);
  return { record: w.server.finishRegistration(result.upload), result };
}

/** A full login; returns both sides' keys or throws what the failing side threw. */
export async function login(w: World, user: string, password: string, record = null as Parameters<OpaqueServer['startLogin']>[0], params?: ClientParams) {
  const { request, state } = w.client.startLogin(password);
  const started = w.server.startLogin(record, request, user);
  const client = await w.client.finishLogin(state, password, started.response, params);
  const server = w.server.finishLogin(started.state, client.finalization);
  return { client, server };
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
