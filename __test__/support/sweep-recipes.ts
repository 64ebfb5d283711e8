/**
 * The one hand-written part of the API sweep: how to make a valid instance
 * of each class and valid arguments for each call, which argument positions
 * hold secrets, and a valid serialization for each reader. Everything else
 * (which exports exist, which methods a class has) is enumerated.
 *
 * Arguments are built fresh for every case (`base` is a function), because
 * protocol states are single use and some calls consume their input.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as keyward from '../../src/index';
import * as serenity from '../../src/serenity/index';
import * as serenityP256 from '../../src/serenity/p256';

const k = keyward;
/** Argon2id at its minimum, so that cases that reach the KSF stay cheap. */
export const fast = { iterations: 1, memory: 64, parallelism: 1 };
export const PASSWORD = 'correct horse battery staple';

export interface Recipe {
  /** Valid arguments, fresh per case. */
  base?: (c: Ctx) => unknown[];
  /** Argument positions that hold secrets: an error may not echo what was passed there. */
  secret?: number[];
  /** Option-bag fields that hold secrets (`pepper`, `password`…). */
  secretFields?: string[];
  /** A fresh instance for a method (default: `instances[class]`); may be async (a relay connection). */
  instance?: (c: Ctx) => object | Promise<object>;
  /** A reader: the position of the serialization, whose valid value (from `base`) is cut, extended and bit-flipped. */
  reads?: number;
  /** Receiver and arguments made together, when they must match (a reply for this very session). */
  make?: (c: Ctx) => { self: object; args: unknown[] } | Promise<{ self: object; args: unknown[] }>;
  /** The valid call is refused by design (a server that says no): its baseline may throw a `KeywardError`. */
  refused?: boolean;
  /** `base` is only a shape for the option fields, not a call that can succeed here. */
  noBaseline?: boolean;
  /** What the call returns (or resolves to) is closed after the case: a store, a connection, a messenger it opened. */
  closeResult?: boolean;
}

/** What the recipes share, made once per child process. */
export type Ctx = Awaited<ReturnType<typeof makeCtx>>;

export async function makeCtx(group = '') {
  /** What the current case opened, closed after it (`defer`), and what the context opened, closed at the end. */
  const closers: (() => unknown)[] = [];
  const lasting: (() => unknown)[] = [];
  const closeAll = async (list: (() => unknown)[]) => {
    for (const close of list.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      // A close that never settles is the case's problem, reported by its own outcome; the next case must still run.
      await Promise.race([Promise.resolve().then(close), new Promise((resolve) => (timer = setTimeout(resolve, 5000)))])
        .catch(() => {})
        .finally(() => clearTimeout(timer));
    }
  };
  const lifecycle = {
    /** Registers `close` to run after the current case. */
    defer: <T>(value: T, close: (value: T) => unknown): T => {
      closers.push(() => close(value));
      return value;
    },
    cleanup: () => closeAll(closers),
    close: async () => {
      await closeAll(closers);
      await closeAll(lasting);
    },
  };
  const setup = k.ServerSetup.generate();
  const server = new k.OpaqueServer(setup);
  const client = new k.OpaqueClient({ keyStretching: fast });
  const rs = client.startRegistration(PASSWORD);
  const regResponse = server.startRegistration(rs.request, 'alice');
  const reg = client.finishRegistrationSync(rs.state, PASSWORD, regResponse);
  const record = server.finishRegistration(reg.upload);
  /** A login up to the server's answer: the client's state, the response, the server's state. */
  const loginStarted = () => {
    const start = client.startLogin(PASSWORD);
    const answered = server.startLogin(record, start.request, 'alice');
    return { clientState: start.state, response: answered.response, serverState: answered.state };
  };
  const loginFinished = () => {
    const l = loginStarted();
    return { ...l, done: client.finishLoginSync(l.clientState, PASSWORD, l.response) };
  };
  const secretKey = k.SecretKey.generate();
  const sessionKey = randomBytes(64);
  const popKey = k.derivePopKey(sessionKey, 'session-1');
  const box = k.seal(secretKey, 'hello sealed world', { aad: 'ctx' });
  const token = k.makeToken(secretKey, 'hello token');
  const jsonBox = k.sealJson(secretKey, { a: 1 });
  const tag = k.mac(secretKey, ['a', 'b']);
  const hash = k.hashPasswordSync(PASSWORD, { params: { memory: 64, iterations: 1, parallelism: 1 }, pepper: 'pepper' });
  const aeadKey = randomBytes(32);
  const nonce = randomBytes(24);
  const aeadSealed = k.primitives.aeadEncrypt('xchacha20-poly1305', aeadKey, nonce, Buffer.from('plain'));
  const sealedStream = await new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    Readable.from([Buffer.from('a stream of bytes '.repeat(200))])
      .pipe(k.createSealTransform(secretKey, { chunkSize: 1024 }))
      .on('data', (d: Buffer) => chunks.push(d))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });

  const storageKey = randomBytes(32);
  const alice = k.IdentityKey.generate();
  const bob = k.IdentityKey.generate();
  const bobPreKeys = () => k.PreKeySet.generate(bob, { oneTimePreKeys: 3 });
  const preKeys = bobPreKeys();
  const bundle = preKeys.bundle();
  const initiated = () => k.Session.initiate(alice, bob.publicKey);
  /** Alice's and Bob's ends of one completed Noise_IK session. */
  const established = () => {
    const i = initiated();
    const r = k.Session.respond(bob, i.message);
    i.session.complete(r.reply);
    return { alice: i.session, bob: r.session };
  };
  const firstMessage = () => {
    const set = bobPreKeys();
    const s = k.Session.fromBundle(alice, set.bundle(), { expectedPeer: bob.publicKey });
    return { set, session: s, message: s.encrypt('first') };
  };
  const aliceRecord = alice.serialize(storageKey);
  const preKeyRecord = preKeys.serialize(storageKey);
  const sessionRecord = established().alice.serialize(storageKey);

  const dir = mkdtempSync(join(process.cwd(), 'vault-'));
  let vaults = 0;
  const vault = () => k.Vault.openSync(join(dir, `v${vaults++}`), secretKey);

  const store = new k.MemoryStore();
  const service = k.createAuthService({ serverSetup: setup, store, sealKey: secretKey });
  const serviceLogin = async () => {
    const start = client.startLogin(PASSWORD);
    return { start, answered: await service.loginStart({ username: 'alice', request: k.encodeBase64Url(start.request) }, '127.0.0.1') };
  };
  await service.registerFinish({ username: 'alice', upload: k.encodeBase64Url(reg.upload) });
  const sl = await serviceLogin();
  const loginState = sl.answered.loginState;

  const ser = (api: Pick<typeof serenity, 'client' | 'server'>) => {
    const serverSetup = api.server.createSetup();
    const rs = api.client.startRegistration({ password: PASSWORD });
    const { registrationResponse } = api.server.createRegistrationResponse({
      serverSetup,
      userIdentifier: 'alice',
      registrationRequest: rs.registrationRequest,
    });
    const custom = { 'argon2id-custom': fast } as const;
    const reg = api.client.finishRegistration({
      password: PASSWORD,
      registrationResponse,
      clientRegistrationState: rs.clientRegistrationState,
      keyStretching: custom,
    });
    const loginStart = () => {
      const ls = api.client.startLogin({ password: PASSWORD });
      const answered = api.server.startLogin({
        serverSetup,
        registrationRecord: reg.registrationRecord,
        startLoginRequest: ls.startLoginRequest,
        userIdentifier: 'alice',
      });
      return { ...ls, ...answered };
    };
    const loginDone = () => {
      const l = loginStart();
      const done = api.client.finishLogin({ clientLoginState: l.clientLoginState, loginResponse: l.loginResponse, password: PASSWORD, keyStretching: custom })!;
      return { ...l, ...done };
    };
    return {
      api,
      serverSetup,
      rs,
      registrationResponse,
      reg,
      custom,
      loginStart,
      loginDone,
      regStart: () => api.client.startRegistration({ password: PASSWORD }),
    };
  };

  const base = {
    ...lifecycle,
    setup,
    server,
    client,
    record,
    regResponse,
    reg,
    loginStarted,
    loginFinished,
    secretKey,
    sessionKey,
    popKey,
    box,
    token,
    jsonBox,
    tag,
    hash,
    aeadKey,
    nonce,
    aeadSealed,
    sealedStream,
    storageKey,
    alice,
    bob,
    bobPreKeys,
    preKeys,
    bundle,
    initiated,
    established,
    firstMessage,
    aliceRecord,
    preKeyRecord,
    sessionRecord,
    vault,
    dir,
    store,
    service,
    serviceLogin,
    loginState,
    ristretto: ser(serenity),
    p256: ser(serenityP256),
  };
  // The relay's servers, stores and clients are made only for the relay's groups.
  const relay = group.startsWith('relay:') ? await makeRelayCtx(base, (close) => lasting.push(close)) : undefined;
  return { ...base, relay };
}

const request = (_c: Ctx) => ({ method: 'POST', url: '/x?y=1', body: 'body' });

/** Valid instances of each class, by class name. */
export const instances: Record<string, (c: Ctx) => object | Promise<object>> = {
  OpaqueClient: () => new k.OpaqueClient({ keyStretching: fast }),
  OpaqueServer: (c) => new k.OpaqueServer(c.setup),
  ServerSetup: () => k.ServerSetup.generate(),
  ServerRegistration: (c) => k.ServerRegistration.deserialize(c.record.serialize()),
  ClientRegistrationState: (c) => c.client.startRegistration(PASSWORD).state,
  ClientLoginState: (c) => c.client.startLogin(PASSWORD).state,
  ServerLoginState: (c) => c.loginStarted().serverState,
  SecretKey: () => k.SecretKey.generate(),
  Vault: (c) => c.vault(),
  MemoryReplayCache: () => new k.MemoryReplayCache(),
  MemoryReplayGuard: () => new k.MemoryReplayGuard(),
  PopKey: (c) => k.derivePopKey(c.sessionKey, 'session-1'),
  PopVerifier: (c) => new k.PopVerifier({ lookup: () => ({ popKey: c.popKey }) }),
  AuthSession: (c) => new k.AuthSession('alice', 'session-1', Date.now() + 60_000, c.popKey, Date.now()),
  MemoryStore: () => new k.MemoryStore(),
  SqliteStore: () => new k.SqliteStore(join(mkdtempSync(join(process.cwd(), 'sqlite-')), 'db')),
  IdentityKey: () => k.IdentityKey.generate(),
  PreKeySet: (c) => c.bobPreKeys(),
  Session: (c) => c.established().alice,
  NoiseHandshake: () => new k.NoiseHandshake('Noise_NN_25519_ChaChaPoly_BLAKE2s', { initiator: true }),
  ...relayInstances,
};

/** Classes that are not swept through their instances, and why. */
export const notInstantiated: Record<string, string> = {
  PgRedisStore: 'needs PostgreSQL and Redis (store-contract.test.ts runs it against real ones); its constructor is swept',
};

const opaqueOpts = () => ({ identifiers: { client: 'c', server: 's' }, context: 'ctx', keyStretching: fast });

/** Valid arguments per target id (`entry:Export.static`, `entry:Class#method`, `entry:new Class`). */
export const recipes: Record<string, Recipe> = {
  'index:constantTimeEqual': { base: () => [randomBytes(8), randomBytes(8)] },
  'index:decodeBase64Url': { base: () => ['AAEC'], reads: 0 },
  'index:encodeBase64Url': { base: () => [randomBytes(9)] },

  'index:new OpaqueClient': {
    base: () => [{ suite: 'p256_sha256', keyStretching: fast, identifiers: { client: 'c' }, context: 'x', serverPublicKey: randomBytes(32) }],
  },
  'index:OpaqueClient.verifyServerPublicKey': { base: (c) => [c.setup.publicKey, c.setup.publicKey] },
  'index:OpaqueClient#startRegistration': { base: () => [PASSWORD], secret: [0] },
  'index:OpaqueClient#finishRegistration': {
    base: (c) => [c.client.startRegistration(PASSWORD).state, PASSWORD, c.regResponse, opaqueOpts()],
    secret: [1],
    reads: 2,
  },
  'index:OpaqueClient#finishRegistrationSync': {
    base: (c) => [c.client.startRegistration(PASSWORD).state, PASSWORD, c.regResponse, opaqueOpts()],
    secret: [1],
    reads: 2,
  },
  'index:OpaqueClient#startLogin': { base: () => [PASSWORD], secret: [0] },
  'index:OpaqueClient#finishLogin': {
    base: (c) => {
      const l = c.loginStarted();
      return [l.clientState, PASSWORD, l.response, { keyStretching: fast }];
    },
    secret: [1],
    reads: 2,
  },
  'index:OpaqueClient#finishLoginSync': {
    base: (c) => {
      const l = c.loginStarted();
      return [l.clientState, PASSWORD, l.response, { keyStretching: fast }];
    },
    secret: [1],
    reads: 2,
  },
  'index:new OpaqueServer': { base: (c) => [c.setup, { identifiers: { client: 'c' }, context: 'x' }] },
  'index:OpaqueServer#startRegistration': { base: (c) => [c.client.startRegistration(PASSWORD).request, 'alice'], reads: 0 },
  'index:OpaqueServer#finishRegistration': { base: (c) => [c.reg.upload], reads: 0 },
  'index:OpaqueServer#startLogin': { base: (c) => [c.record, c.client.startLogin(PASSWORD).request, 'alice', { context: 'x' }], reads: 1 },
  'index:OpaqueServer#finishLogin': {
    base: (c) => {
      const l = c.loginFinished();
      return [l.serverState, l.done.finalization, {}];
    },
    reads: 1,
  },

  'index:ServerSetup.generate': { base: () => ['p256_sha256'] },
  'index:ServerSetup.deserialize': { base: (c) => [c.setup.serialize()], reads: 0 },
  'index:ServerSetup.fromRaw': { base: (c) => ['ristretto255_sha512', c.setup.serializeRaw()], reads: 1 },
  'index:ServerRegistration.deserialize': { base: (c) => [c.record.serialize()], reads: 0 },
  'index:ServerRegistration.fromRaw': { base: (c) => ['ristretto255_sha512', c.record.serializeRaw()], reads: 1 },
  'index:ClientRegistrationState.deserialize': { base: (c) => [c.client.startRegistration(PASSWORD).state.serialize()], reads: 0 },
  'index:ClientRegistrationState.fromRaw': { base: (c) => ['ristretto255_sha512', c.client.startRegistration(PASSWORD).state.serializeRaw()], reads: 1 },
  'index:ClientLoginState.deserialize': { base: (c) => [c.client.startLogin(PASSWORD).state.serialize()], reads: 0 },
  'index:ClientLoginState.fromRaw': { base: (c) => ['ristretto255_sha512', c.client.startLogin(PASSWORD).state.serializeRaw()], reads: 1 },
  'index:ServerLoginState.deserialize': { base: (c) => [c.loginStarted().serverState.serialize()], reads: 0 },
  'index:ServerLoginState.fromRaw': { base: (c) => ['ristretto255_sha512', c.loginStarted().serverState.serializeRaw()], reads: 1 },

  'index:registration.client.start': { base: () => [PASSWORD, { suite: 'ristretto255_sha512' }], secret: [0] },
  'index:registration.client.finish': { base: (c) => [c.client.startRegistration(PASSWORD).state, PASSWORD, c.regResponse, opaqueOpts()], secret: [1] },
  'index:registration.client.finishSync': { base: (c) => [c.client.startRegistration(PASSWORD).state, PASSWORD, c.regResponse, opaqueOpts()], secret: [1] },
  'index:registration.server.start': { base: (c) => [c.setup, c.client.startRegistration(PASSWORD).request, 'alice'] },
  'index:registration.server.finish': { base: (c) => [c.reg.upload, { suite: 'ristretto255_sha512' }] },
  'index:login.client.start': { base: () => [PASSWORD, { suite: 'ristretto255_sha512' }], secret: [0] },
  'index:login.client.finish': {
    base: (c) => {
      const l = c.loginStarted();
      return [l.clientState, PASSWORD, l.response, { keyStretching: fast }];
    },
    secret: [1],
  },
  'index:login.client.finishSync': {
    base: (c) => {
      const l = c.loginStarted();
      return [l.clientState, PASSWORD, l.response, { keyStretching: fast }];
    },
    secret: [1],
  },
  'index:login.server.start': { base: (c) => [c.setup, c.record, c.client.startLogin(PASSWORD).request, 'alice', { context: 'x' }] },
  'index:login.server.finish': {
    base: (c) => {
      const l = c.loginFinished();
      return [l.serverState, l.done.finalization, { context: undefined }];
    },
  },

  'index:SecretKey.from': { base: () => [randomBytes(32)], secret: [0] },
  'index:SecretKey#derive': { base: () => ['domain', 'a', 'b'] },
  'index:deriveKey': { base: (c) => [c.secretKey, 'domain', 'ctx'] },
  'index:seal': { base: (c) => [c.secretKey, 'data', { aad: 'ctx', clock: () => 1_700_000_000_000 }] },
  'index:open': { base: (c) => [c.secretKey, c.box, { aad: 'ctx', ttl: 1e9, clock: Date.now }], reads: 1 },
  'index:sealJson': { base: (c) => [c.secretKey, { a: 1 }, { aad: 'x' }] },
  'index:openJson': { base: (c) => [c.secretKey, c.jsonBox, {}], reads: 1 },
  'index:makeToken': { base: (c) => [c.secretKey, 'data', {}] },
  'index:readToken': { base: (c) => [c.secretKey, c.token, { ttl: 60 }], reads: 1 },
  'index:mac': { base: (c) => [c.secretKey, ['a', 'b'], { aad: 'x' }] },
  'index:verifyMac': { base: (c) => [c.secretKey, ['a', 'b'], c.tag, {}], reads: 2 },
  'index:hashPassword': {
    base: () => [PASSWORD, { pepper: 'pepper', aad: 'user', params: { memory: 64, iterations: 1, parallelism: 1 }, clock: Date.now }],
    secret: [0],
    secretFields: ['pepper'],
  },
  'index:hashPasswordSync': {
    base: () => [PASSWORD, { pepper: 'pepper', aad: 'user', params: { memory: 64, iterations: 1, parallelism: 1 }, clock: Date.now }],
    secret: [0],
    secretFields: ['pepper'],
  },
  'index:verifyPassword': {
    base: (c) => [c.hash, PASSWORD, { pepper: 'pepper', aad: undefined, ttl: 1e6, clock: Date.now }],
    secret: [1],
    secretFields: ['pepper'],
    reads: 0,
  },
  'index:verifyPasswordSync': {
    base: (c) => [c.hash, PASSWORD, { pepper: 'pepper', ttl: 1e6, clock: Date.now }],
    secret: [1],
    secretFields: ['pepper'],
    reads: 0,
  },
  'index:needsRehash': { base: (c) => [c.hash, { memory: 64, iterations: 1, parallelism: 1 }], reads: 0 },
  'index:createSealStream': { base: (c) => [c.secretKey, { aad: 'x', chunkSize: 4096 }] },
  'index:createOpenStream': { base: (c) => [c.secretKey, { aad: 'x' }] },
  'index:createSealTransform': { base: (c) => [c.secretKey, { aad: 'x', chunkSize: 4096 }] },
  'index:createOpenTransform': { base: (c) => [c.secretKey, {}] },
  'index:primitives.aeadEncrypt': { base: () => ['xchacha20-poly1305', randomBytes(32), randomBytes(24), Buffer.from('p'), 'aad'], secret: [1] },
  'index:primitives.aeadDecrypt': { base: (c) => ['xchacha20-poly1305', c.aeadKey, c.nonce, c.aeadSealed], secret: [1], reads: 3 },
  'index:primitives.hkdf': { base: () => ['sha256', randomBytes(32), randomBytes(16), Buffer.from('info'), 42], secret: [1] },
  'index:primitives.hmac': { base: () => ['sha512', randomBytes(32), Buffer.from('m')], secret: [1] },

  'index:Vault.open': { base: (c) => [join(c.dir, `o${Math.random()}`), c.secretKey, { clock: Date.now }] },
  'index:Vault.openSync': { base: (c) => [join(c.dir, `o${Math.random()}`), c.secretKey, { clock: Date.now }] },
  'index:Vault#namespace': { base: () => ['ns'] },
  'index:Vault#get': { base: () => ['tag'] },
  'index:Vault#set': { base: () => ['tag', { a: [1, 'x', null] }] },
  'index:Vault#has': { base: () => ['tag'] },
  'index:Vault#delete': { base: () => ['tag'] },
  'index:Vault#rekey': { base: () => [k.SecretKey.generate()] },
  'index:Vault#rekeySync': { base: () => [k.SecretKey.generate()] },

  'index:new MemoryReplayCache': { base: () => [{ clock: Date.now, maxNoncesPerSession: 10 }] },
  'index:MemoryReplayCache#add': { base: () => ['key', 1000] },
  'index:new MemoryReplayGuard': { base: () => [{ maxEntries: 10, clock: Date.now }] },
  'index:MemoryReplayGuard#add': { base: () => ['key', 1000] },
  'index:PopKey.fromBytes': { base: (c) => [c.popKey.exportBytes(), 'session-1', { bearer: 'token' }], secret: [0] },
  'index:PopKey.wrap': { base: () => [] },
  'index:derivePopKey': { base: (c) => [c.sessionKey, 'session-1', { bearer: 'token' }], secret: [0] },
  'index:signRequest': { base: (c) => [c.popKey, { method: 'POST', url: '/x?y=1', body: 'body', timestamp: Date.now(), nonce: 'nonce-123456' }] },
  'index:new PopVerifier': { base: () => [{ lookup: () => undefined, replayCache: new k.MemoryReplayCache(), windowMs: 1000, clock: Date.now }] },
  'index:PopVerifier#verify': {
    base: (c) => {
      const r = request(c);
      return [{ ...r, headers: k.signRequest(c.popKey, r) }];
    },
  },
  'index:new AuthSession': { base: (c) => ['alice', 'session-1', Date.now(), c.popKey] },
  'index:new MemoryStore': { base: () => [{ clock: Date.now }] },
  'index:MemoryStore#getPasswordFile': { base: () => ['alice'] },
  'index:MemoryStore#createUser': { base: () => ['alice', randomBytes(8)] },
  'index:MemoryStore#limiter': { base: () => [{ name: 'x', points: 1, duration: 1 }] },
  'index:MemoryStore#revoke': { base: () => ['session-1', Date.now() + 1000] },
  'index:MemoryStore#isRevoked': { base: () => ['session-1'] },
  'index:MemoryStore#add': { base: () => ['key', 1000] },
  'index:new SqliteStore': { base: () => [join(mkdtempSync(join(process.cwd(), 'sqlite-')), 'db'), { clock: Date.now }] },
  'index:SqliteStore#getPasswordFile': { base: () => ['alice'] },
  'index:SqliteStore#createUser': { base: () => ['alice', randomBytes(8)] },
  'index:SqliteStore#limiter': { base: () => [{ name: 'x', points: 1, duration: 1 }] },
  'index:SqliteStore#revoke': { base: () => ['session-1', Date.now() + 1000] },
  'index:SqliteStore#isRevoked': { base: () => ['session-1'] },
  'index:SqliteStore#add': { base: () => ['key', 1000] },
  // Fields only of wrong types: a string would make the store connect somewhere.
  'index:new PgRedisStore': { base: () => [{ postgres: 1, redis: 2 }], noBaseline: true },
  'index:createAuthService': {
    base: (c) => [
      {
        serverSetup: c.setup,
        store: new k.MemoryStore(),
        sealKey: c.secretKey,
        sessionTtlMs: 1000,
        loginTtlMs: 1000,
        rateLimit: { perUser: 3 },
        allowRegistration: true,
        popWindowMs: 1000,
        clock: Date.now,
      },
    ],
  },

  'index:IdentityKey.fromSeed': { base: () => [randomBytes(32)], secret: [0] },
  'index:IdentityKey.deserialize': { base: (c) => [c.aliceRecord, c.storageKey], secret: [1], reads: 0 },
  'index:IdentityKey.fingerprint': { base: (c) => [c.alice.publicKey] },
  'index:IdentityKey.verify': { base: (c) => [c.alice.publicKey, 'm', c.alice.sign('m')] },
  'index:IdentityKey#sign': { base: () => ['message'] },
  'index:IdentityKey#serialize': { base: (c) => [c.storageKey], secret: [0] },
  'index:PreKeySet.generate': { base: (c) => [c.bob, { oneTimePreKeys: 2, kem: false }] },
  'index:PreKeySet.generateAsync': { base: (c) => [c.bob, { oneTimePreKeys: 2, kem: false }] },
  'index:PreKeySet.deserialize': { base: (c) => [c.preKeyRecord, c.storageKey], secret: [1], reads: 0 },
  'index:PreKeySet#addOneTimePreKeys': { base: () => [2] },
  'index:PreKeySet#addOneTimePreKeysAsync': { base: () => [2] },
  'index:PreKeySet#addOneTimeKemPreKeys': { base: () => [2] },
  'index:PreKeySet#makeRoom': { base: () => [{ oneTime: 1, oneTimeKem: 1 }] },
  'index:PreKeySet#rotate': { base: (c) => [c.bob] },
  'index:PreKeySet#serialize': { base: (c) => [c.storageKey], secret: [0] },
  'index:Session.initiate': { base: (c) => [c.alice, c.bob.publicKey, { prologue: 'p', payload: 'hi' }] },
  'index:Session.respond': { base: (c) => [c.bob, c.initiated().message, { expectedPeer: c.alice.publicKey }], reads: 1 },
  'index:Session.respondAsync': { base: (c) => [c.bob, c.initiated().message, { expectedPeer: c.alice.publicKey }], reads: 1 },
  'index:Session#complete': {
    make: (c) => {
      const i = c.initiated();
      return { self: i.session, args: [k.Session.respond(c.bob, i.message).reply] };
    },
    reads: 0,
  },
  'index:Session.fromBundle': { base: (c) => [c.alice, c.bundle, { trustOnFirstUse: true }], reads: 1 },
  'index:Session.accept': {
    base: (c) => {
      const f = c.firstMessage();
      return [c.bob, f.set, f.message, { expectedPeer: c.alice.publicKey }];
    },
    reads: 2,
  },
  'index:Session.deserialize': { base: (c) => [c.sessionRecord, c.storageKey], secret: [1], reads: 0 },
  'index:Session#encrypt': { base: () => ['plain', 'ad'] },
  'index:Session#decrypt': {
    make: (c) => {
      const e = c.established();
      return { self: e.bob, args: [e.alice.encrypt('to bob', 'ad'), 'ad'] };
    },
    reads: 0,
  },
  'index:Session#encryptAsync': { base: () => ['plain', 'ad'] },
  'index:Session#decryptAsync': {
    make: (c) => {
      const e = c.established();
      return { self: e.bob, args: [e.alice.encrypt('to bob')] };
    },
    reads: 0,
  },
  'index:Session#serialize': { base: (c) => [c.storageKey], secret: [0] },
  'index:secureWipe': { base: () => [randomBytes(8)] },
  'index:x25519': { base: () => [randomBytes(32), randomBytes(32)], secret: [0] },
  'index:new NoiseHandshake': { base: () => ['Noise_NN_25519_ChaChaPoly_BLAKE2s', { initiator: true, prologue: 'p' }], secretFields: ['localStatic'] },
  'index:NoiseHandshake#write': { base: () => ['payload'] },
  'index:NoiseHandshake#read': {
    make: () => ({
      self: new k.NoiseHandshake('Noise_NN_25519_ChaChaPoly_BLAKE2s', { initiator: false }),
      args: [new k.NoiseHandshake('Noise_NN_25519_ChaChaPoly_BLAKE2s', { initiator: true }).write('x')],
    }),
    reads: 0,
  },

  'express:requirePop': { base: (c) => [c.service, { bodyLimit: 1024 }] },
  'express:keywardRouter': { base: (c) => [{ service: c.service, bodyLimit: 1024 }] },
  'express:keywardJson': { base: () => [{ limit: 1024 }] },
  'express:withAuth': { base: () => [() => undefined] },
  'express:keepRawBody': { base: () => [{}, {}, Buffer.from('x')] },
  'fastify:withAuth': { base: () => [() => undefined] },
  'client:createClient': {
    base: () => [
      {
        baseUrl: 'http://127.0.0.1:9/api',
        authBaseUrl: 'http://127.0.0.1:9/auth',
        keyStretching: fast,
        fetch: async () => new Response('{}', { status: 400 }),
      },
    ],
  },
  ...relayRecipes,
};

/** Recipes for the methods of objects a factory returns (the auth service, a client, serenity). */
export function factoryRecipes(): Record<string, Recipe> {
  const svc = (c: Ctx) => c.service;
  const clientOf = () =>
    keywardClient({
      baseUrl: 'http://127.0.0.1:9/api',
      keyStretching: fast,
      // A server that refuses everything: what matters is how the client treats its own arguments.
      fetch: async () => new Response(JSON.stringify({ error: { code: 'ERR_AUTH_BAD_REQUEST', message: 'no' } }), { status: 400 }),
    });
  const out: Record<string, Recipe> = {
    'index:createAuthService().registerStart': {
      instance: svc,
      base: (c) => [{ username: `u${Math.random()}`, request: k.encodeBase64Url(c.client.startRegistration(PASSWORD).request) }, { address: '10.0.0.1' }],
    },
    'index:createAuthService().registerFinish': {
      instance: svc,
      base: (c) => [{ username: `u${Math.random()}`, upload: k.encodeBase64Url(c.reg.upload) }, '10.0.0.1'],
    },
    'index:createAuthService().loginStart': {
      instance: svc,
      base: (c) => [{ username: 'alice', request: k.encodeBase64Url(c.client.startLogin(PASSWORD).request) }, '10.0.0.2'],
    },
    'index:createAuthService().loginFinish': {
      instance: svc,
      base: (c) => [{ loginState: c.loginState, finalization: k.encodeBase64Url(c.loginFinished().done.finalization) }],
      reads: 0,
      // The finalization is of another login than the state: refused as a login failure.
      refused: true,
    },
    'index:createAuthService().verify': { instance: svc, base: () => [{ method: 'GET', url: '/', headers: { authorization: 'Bearer x' } }], refused: true },
    'index:createAuthService().logout': { instance: svc, base: (c) => [new k.AuthSession('alice', 'session-1', Date.now() + 1000, c.popKey, Date.now())] },
    'client:createClient().register': { instance: clientOf, base: () => ['alice', PASSWORD], secret: [1], refused: true },
    'client:createClient().login': { instance: clientOf, base: () => ['alice', PASSWORD], secret: [1], refused: true },
    'client:createClient().fetch': { instance: clientOf, base: () => ['/x', { method: 'POST', body: 'b' }], refused: true },
    'client:createClient().logout': { instance: clientOf, base: () => [] },
    ...relayFactoryRecipes,
  };
  for (const [entry, pick] of [
    ['serenity', (c: Ctx) => c.ristretto],
    ['p256', (c: Ctx) => c.p256],
  ] as const) {
    const api = (c: Ctx) => pick(c).api;
    Object.assign(out, {
      [`${entry}:client.startRegistration`]: { instance: (c: Ctx) => api(c).client, base: () => [{ password: PASSWORD }], secretFields: ['password'] },
      [`${entry}:client.finishRegistration`]: {
        instance: (c: Ctx) => api(c).client,
        base: (c: Ctx) => {
          const s = pick(c);
          const r = s.regStart();
          const resp = s.api.server.createRegistrationResponse({ serverSetup: s.serverSetup, userIdentifier: 'a', registrationRequest: r.registrationRequest });
          return [
            {
              password: PASSWORD,
              registrationResponse: resp.registrationResponse,
              clientRegistrationState: r.clientRegistrationState,
              keyStretching: s.custom,
              identifiers: { client: 'c' },
            },
          ];
        },
        secretFields: ['password'],
      },
      [`${entry}:client.finishRegistrationAsync`]: {
        instance: (c: Ctx) => api(c).client,
        base: (c: Ctx) => {
          const s = pick(c);
          const r = s.regStart();
          const resp = s.api.server.createRegistrationResponse({ serverSetup: s.serverSetup, userIdentifier: 'a', registrationRequest: r.registrationRequest });
          return [
            {
              password: PASSWORD,
              registrationResponse: resp.registrationResponse,
              clientRegistrationState: r.clientRegistrationState,
              keyStretching: s.custom,
            },
          ];
        },
        secretFields: ['password'],
      },
      [`${entry}:client.startLogin`]: { instance: (c: Ctx) => api(c).client, base: () => [{ password: PASSWORD }], secretFields: ['password'] },
      [`${entry}:client.finishLogin`]: {
        instance: (c: Ctx) => api(c).client,
        base: (c: Ctx) => {
          const l = pick(c).loginStart();
          return [{ clientLoginState: l.clientLoginState, loginResponse: l.loginResponse, password: PASSWORD, keyStretching: pick(c).custom }];
        },
        secretFields: ['password'],
      },
      [`${entry}:client.finishLoginAsync`]: {
        instance: (c: Ctx) => api(c).client,
        base: (c: Ctx) => {
          const l = pick(c).loginStart();
          return [{ clientLoginState: l.clientLoginState, loginResponse: l.loginResponse, password: PASSWORD, keyStretching: pick(c).custom }];
        },
        secretFields: ['password'],
      },
      [`${entry}:server.createSetup`]: { instance: (c: Ctx) => api(c).server, base: () => [] },
      [`${entry}:server.getPublicKey`]: { instance: (c: Ctx) => api(c).server, base: (c: Ctx) => [pick(c).serverSetup], secret: [0] },
      [`${entry}:server.createRegistrationResponse`]: {
        instance: (c: Ctx) => api(c).server,
        base: (c: Ctx) => [{ serverSetup: pick(c).serverSetup, userIdentifier: 'alice', registrationRequest: pick(c).regStart().registrationRequest }],
        secretFields: ['serverSetup'],
      },
      [`${entry}:server.startLogin`]: {
        instance: (c: Ctx) => api(c).server,
        base: (c: Ctx) => [
          {
            serverSetup: pick(c).serverSetup,
            registrationRecord: pick(c).reg.registrationRecord,
            startLoginRequest: pick(c).loginStart().startLoginRequest,
            userIdentifier: 'alice',
            identifiers: {},
          },
        ],
        secretFields: ['serverSetup'],
      },
      [`${entry}:server.finishLogin`]: {
        instance: (c: Ctx) => api(c).server,
        base: (c: Ctx) => {
          const d = pick(c).loginDone();
          return [{ serverLoginState: d.serverLoginState, finishLoginRequest: d.finishLoginRequest }];
        },
        secretFields: ['serverLoginState'],
      },
    });
  }
  return out;
}

import { createClient as keywardClient } from '../../src/client/index';
import { makeRelayCtx, relayFactoryRecipes, relayInstances, relayRecipes } from './sweep-relay-recipes';
