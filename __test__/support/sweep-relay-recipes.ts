/**
 * The API sweep's recipes for `keyward/relay`: a real relay (a SQLite store
 * in a temp directory, a `RelayKey`, the server listening on loopback port
 * 0), real PostgreSQL and Redis for `PgRelayStore` and `RedisPresence`
 * (`KEYWARD_TEST_PG`, `KEYWARD_TEST_REDIS`, as scripts/with-services.mjs
 * sets them; connected only by those two groups), and fresh connections, stores and messengers per case, each
 * closed after its case (`defer`). Made only in the relay's child processes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { Pool } from 'pg';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import {
  createRelayServer,
  LocalPresence,
  Messenger,
  PgRelayStore,
  RedisPresence,
  RelayConnection,
  RelayKey,
  type RelayStore,
  type RelayStoreLimits,
  SqliteRelayStore,
} from '../../src/relay/index';
import type { Vault } from '../../src/seal/vault';
import { IdentityKey } from '../../src/session';
import type { Ctx, Recipe } from './sweep-recipes';

/** What the relay context needs of the shared one. */
interface Base {
  vault: () => Vault;
  defer: <T>(value: T, close: (value: T) => unknown) => T;
}

/** Room for every case's messages: the sweep is about arguments, not quotas. */
const LIMITS: RelayStoreLimits = { quotaMessages: 1_000_000, quotaBytes: 1 << 30, ttlMs: 3_600_000, maxOneTimeStored: 100, maxDevices: 8 };

/** A signed prekey section that parses (id ‖ key ‖ ML-KEM flag ‖ id ‖ key ‖ signature); the store compares bytes, the server verifies. */
function signedSection(id: number) {
  const bytes = new Uint8Array(4 + 32 + 1 + 4 + 1184 + 64).fill(id % 256);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, id);
  bytes[36] = 1;
  view.setUint32(37, id);
  return { id, bytes };
}

const env = (name: 'KEYWARD_TEST_PG' | 'KEYWARD_TEST_REDIS') => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is unset: run the sweep through \`node scripts/with-services.mjs npx ava …\``);
  return value;
};

export type RelayCtx = Awaited<ReturnType<typeof makeRelayCtx>>;

export async function makeRelayCtx(base: Base, lasting: (close: () => unknown) => void) {
  const dir = mkdtempSync(join(process.cwd(), 'relay-'));
  let files = 0;
  const key = RelayKey.generate();
  const store = new SqliteRelayStore(join(dir, 'relay.db'), { limits: LIMITS });
  const server = createRelayServer({ key, store });
  const addresses = await server.listen({ websocket: { port: 0 }, tcp: { port: 0 } });
  const url = addresses.websocket!.url;
  const tcp = { host: addresses.tcp!.host, port: addresses.tcp!.port };
  // Made at first use: only the PgRelayStore and RedisPresence groups need them (sweep-api.test.ts
  // runs those as its `postgres+redis` test, which CI runs where it has both).
  let pool: Pool | undefined;
  let redis: IORedis | undefined;
  const poolOf = () => {
    if (pool === undefined) {
      const made = new Pool({ connectionString: env('KEYWARD_TEST_PG'), max: 4 });
      lasting(() => made.end());
      pool = made;
    }
    return pool;
  };
  const redisOf = () => {
    if (redis === undefined) {
      const made = new IORedis(env('KEYWARD_TEST_REDIS'), { maxRetriesPerRequest: 1 });
      lasting(() => made.quit());
      redis = made;
    }
    return redis;
  };
  const bob = IdentityKey.generate();
  const bobConnection = await RelayConnection.connect({ url }, { identity: bob, relayPublicKey: key.publicKey, device: 1 });
  const bobMessenger = await Messenger.open({ vault: base.vault(), relay: { url }, relayPublicKey: key.publicKey, oneTimePreKeys: 20 });
  lasting(() => store.close());
  lasting(() => server.close());
  lasting(() => bobConnection.close());
  lasting(() => bobMessenger.close());

  /** The identity every store case works on: registered, with a signed prekey section. */
  const recipient = new Uint8Array(randomBytes(32));
  const sender = new Uint8Array(randomBytes(32));
  const prepared = async (s: RelayStore) => {
    await s.registerDevice(recipient, 1, Date.now());
    await s.uploadPrekeys(recipient, 1, { signed: signedSection(1) });
    return s;
  };
  const connectOptions = () => ({ identity: IdentityKey.generate(), relayPublicKey: key.publicKey, device: 1, timeoutMs: 5000, keepAliveMs: 30_000 });
  return {
    key,
    store,
    url,
    tcp,
    get pool() {
      return poolOf();
    },
    get redis() {
      return redisOf();
    },
    bob,
    bobMessenger,
    recipient,
    sender,
    signedSection,
    sqlitePath: () => join(dir, `s${files++}.db`),
    /** A fresh SQLite store on its own file, closed after the case. */
    sqlite: () => base.defer(new SqliteRelayStore(join(dir, `s${files++}.db`), { limits: LIMITS, busyTimeoutMs: 1000 }), (s) => s.close()),
    /** A fresh PgRelayStore on the shared pool (which its close leaves open), closed after the case. */
    pg: () => base.defer(new PgRelayStore({ postgres: poolOf(), limits: LIMITS }), (s) => s.close()),
    prepared,
    connectOptions,
    /** A connected, registered client of a fresh identity, closed after the case. */
    connect: async () => base.defer(await RelayConnection.connect({ url }, connectOptions()), (c) => c.close()),
    messengerOptions: () => ({
      vault: base.vault(),
      relay: { url },
      relayPublicKey: key.publicKey,
      identity: IdentityKey.generate(),
      device: 1,
      oneTimePreKeys: 2,
      reconnect: { minDelayMs: 10, maxDelayMs: 100 },
      keepAliveMs: 30_000,
      deviceListTtlMs: 60_000,
      signedPreKeyMaxAgeMs: 3_600_000,
    }),
  };
}

const r = (c: Ctx) => {
  if (c.relay === undefined) throw new Error('the relay context is made only for the relay groups');
  return c.relay;
};

const holder = () => ({ displaced() {}, wake() {}, prekeysLow() {} });

/** Valid instances of the relay's classes. */
export const relayInstances: Record<string, (c: Ctx) => object | Promise<object>> = {
  LocalPresence: () => new LocalPresence(),
  RedisPresence: async (c) => c.defer(await RedisPresence.open({ redis: r(c).redis, prefix: `sweep:${randomBytes(4).toString('hex')}` }), (p) => p.close()),
  RelayKey: () => RelayKey.generate(),
  SqliteRelayStore: (c) => r(c).prepared(r(c).sqlite()),
  PgRelayStore: (c) => r(c).prepared(r(c).pg()),
  RelayConnection: (c) => r(c).connect(),
  Messenger: async (c) => c.defer(await Messenger.open(r(c).messengerOptions()), (m) => m.close()),
};

const storeRecipes = (name: 'SqliteRelayStore' | 'PgRelayStore'): Record<string, Recipe> => {
  const now = () => Date.now();
  const message = (c: Ctx) => ({
    recipient: r(c).recipient,
    sender: r(c).sender,
    senderDevice: 1,
    clientMessageId: new Uint8Array(randomBytes(16)),
    body: new Uint8Array(randomBytes(24)),
    now: now(),
  });
  const mailbox = (c: Ctx) => ({ identity: r(c).recipient, device: 1 });
  return {
    [`relay:${name}#registerDevice`]: { base: (c) => [r(c).recipient, 2, now()] },
    [`relay:${name}#listDevices`]: { base: (c) => [r(c).recipient] },
    [`relay:${name}#enqueue`]: { base: (c) => [{ ...message(c), device: 1 }] },
    [`relay:${name}#enqueueAll`]: { base: (c) => [message(c)] },
    [`relay:${name}#pending`]: { base: (c) => [mailbox(c), { after: 0, limit: 10, now: now() }] },
    [`relay:${name}#ack`]: { base: (c) => [mailbox(c), [1, 2]] },
    [`relay:${name}#purgeExpired`]: { base: () => [now()] },
    [`relay:${name}#uploadPrekeys`]: { base: (c) => [r(c).recipient, 1, { signed: r(c).signedSection(1), oneTime: [], oneTimeKem: [] }] },
    [`relay:${name}#claimBundle`]: { base: (c) => [r(c).recipient, 1] },
    [`relay:${name}#prekeyCounts`]: { base: (c) => [r(c).recipient, 1] },
    [`relay:${name}#close`]: { base: () => [] },
  };
};

/** Valid arguments per relay target. */
export const relayRecipes: Record<string, Recipe> = {
  'relay:new LocalPresence': { base: () => [] },
  'relay:LocalPresence#claim': { base: () => ['mailbox', holder()] },
  'relay:LocalPresence#signal': { base: () => ['mailbox', 'wake'] },

  'relay:RedisPresence.open': {
    base: (c) => [{ redis: r(c).redis, prefix: `sweep:${randomBytes(4).toString('hex')}`, onError: () => {} }],
    closeResult: true,
    // A Redis URL may carry a password.
    secretFields: ['redis'],
  },
  'relay:RedisPresence#claim': { base: () => ['mailbox', holder()] },
  'relay:RedisPresence#signal': { base: () => ['mailbox', 'wake'] },
  'relay:RedisPresence#close': { base: () => [] },

  'relay:RelayKey.generate': { base: () => [] },
  'relay:RelayKey.fromBytes': { base: () => [new Uint8Array(randomBytes(32))], secret: [0], reads: 0 },
  'relay:RelayKey#exportBytes': { base: () => [] },
  'relay:RelayKey#dispose': { base: () => [] },

  'relay:new SqliteRelayStore': { base: (c) => [r(c).sqlitePath(), { limits: { ...LIMITS }, busyTimeoutMs: 1000 }], closeResult: true },
  ...storeRecipes('SqliteRelayStore'),
  'relay:new PgRelayStore': {
    base: (c) => [{ postgres: r(c).pool, limits: { ...LIMITS } }],
    closeResult: true,
    // A connection string may carry a password.
    secretFields: ['postgres'],
  },
  ...storeRecipes('PgRelayStore'),
  'relay:PgRelayStore#ready': { base: () => [] },

  'relay:RelayConnection.connect': { base: (c) => [{ url: r(c).url }, r(c).connectOptions()], closeResult: true },
  'relay:RelayConnection#request': {
    base: (c) => [{ type: 'Send', recipient: r(c).bob.publicKey, device: 0, clientMessageId: new Uint8Array(randomBytes(16)), body: new Uint8Array(16) }],
  },
  'relay:RelayConnection#close': { base: () => [] },

  'relay:Messenger.open': { base: (c) => [r(c).messengerOptions()], closeResult: true },
  // The plaintext is the secret: no refusal may echo it.
  'relay:Messenger#send': { base: (c) => [r(c).bobMessenger.identity.publicKey, 'a secret hello', { id: `m-${randomBytes(4).toString('hex')}` }], secret: [1] },
  'relay:Messenger#messages': { base: () => [] },
  'relay:Messenger#history': { base: () => [{ after: 0 }] },
  'relay:Messenger#forget': { base: () => [1] },
  'relay:Messenger#close': { base: () => [] },

  'relay:createRelayServer': {
    base: (c) => [
      {
        key: r(c).key,
        store: r(c).store,
        limits: { maxBody: 1000, maxInFlight: 10 },
        clock: Date.now,
        pollIntervalMs: 1000,
        handshakeTimeoutMs: 1000,
        keepAliveMs: 30_000,
        purgeIntervalMs: 60_000,
        unavailableRetryMs: 1000,
        bundleRateLimiter: new RateLimiterMemory({ points: 6, duration: 600 }),
        sendRateLimiters: { perSender: new RateLimiterMemory({ points: 10, duration: 10 }), perPair: new RateLimiterMemory({ points: 10, duration: 10 }) },
        presence: new LocalPresence(),
        onError: () => {},
      },
    ],
  },
};

/** The methods of the server `createRelayServer` returns (one server for the group; `close` runs last). */
export const relayFactoryRecipes: Record<string, Recipe> = {
  'relay:createRelayServer().listen': {
    base: () => [{ websocket: { port: 0, host: '127.0.0.1', path: '/relay' }, tcp: { port: 0, host: '127.0.0.1' } }],
  },
  'relay:createRelayServer().attach': { base: () => [createHttpServer(), '/relay'] },
  'relay:createRelayServer().close': { base: () => [] },
};
