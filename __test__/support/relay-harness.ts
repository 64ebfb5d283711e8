/**
 * A real relay for tests: a real SQLite file (or PostgreSQL), the server
 * listening on loopback over WebSocket and TCP, and clients of three kinds:
 * `RelayConnection` (the library's client), `RawSession` (the binding's
 * handshake and channel by hand, to send what the client would not and to
 * watch frames one by one), and `RawLink` (bare Noise messages, for crafted
 * handshakes and replays).
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import WebSocket from 'ws';
import { SecretKey, Vault } from '../../src/index';
import { binding, call } from '../../src/native';
import { RelayConnection, type RelayDelivery } from '../../src/relay/connection';
import { RelayKey } from '../../src/relay/key';
import { PgRelayStore } from '../../src/relay/pg-store';
import { createRelayServer, type RelayAddresses, type RelayServerOptions } from '../../src/relay/server';
import { SqliteRelayStore } from '../../src/relay/sqlite-store';
import type { RelayStore, RelayStoreLimits } from '../../src/relay/store';
import { tcpLink, wsLink } from '../../src/relay/transport';
import { type NativeRelayChannel, RELAY_LIMITS, type RelayBody, type RelayFrame, type RelayPrekeyStatus } from '../../src/relay/wire';
import { IdentityKey, PreKeySet } from '../../src/session';

export const transports = ['websocket', 'tcp'] as const;
export type Transport = (typeof transports)[number];

/** Store limits for tests (the defaults but fewer devices); a test may lower them. */
export const TEST_LIMITS: RelayStoreLimits = {
  quotaMessages: 1000,
  quotaBytes: 16 << 20,
  ttlMs: RELAY_LIMITS.defaultTtlMs,
  maxOneTimeStored: RELAY_LIMITS.maxOneTimeStored,
  maxDevices: 8,
};

export interface Relay {
  key: RelayKey;
  store: RelayStore;
  /** The SQLite file, when the store is SQLite. */
  file?: string;
  addresses: RelayAddresses;
  endpoint(transport: Transport): { url: string } | { tcp: { host: string; port: number } };
  /** A connected, registered client, closed at teardown. */
  connect(transport: Transport, identity?: IdentityKey, device?: number): Promise<RelayConnection>;
}

export interface RelayOptions {
  storeLimits?: Partial<RelayStoreLimits>;
  server?: Partial<Omit<RelayServerOptions, 'key' | 'store'>>;
  busyTimeoutMs?: number;
  postgres?: boolean;
}

/** Starts a relay on a fresh SQLite file (or PostgreSQL) for this test; everything is closed at teardown. */
export async function startRelay(t: ExecutionContext, options: RelayOptions = {}): Promise<Relay> {
  const limits = { ...TEST_LIMITS, ...options.storeLimits };
  let store: RelayStore;
  let file: string | undefined;
  if (options.postgres) {
    const url = process.env.KEYWARD_TEST_PG;
    if (!url) throw new Error('KEYWARD_TEST_PG is unset: run through `node scripts/with-services.mjs npx ava …`');
    store = new PgRelayStore({ postgres: url, limits });
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-relay-server-'));
    file = join(dir, 'relay.db');
    store = new SqliteRelayStore(file, { limits, busyTimeoutMs: options.busyTimeoutMs });
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  }
  const key = RelayKey.generate();
  const server = createRelayServer({ key, store, ...options.server });
  // Teardowns run in reverse: clients first, then the server, then the store.
  t.teardown(async () => {
    await server.close();
    await store.close();
    key.dispose();
  });
  const addresses = await server.listen({ websocket: { port: 0, path: '/relay' }, tcp: { port: 0 } });
  const endpoint = (transport: Transport) =>
    transport === 'websocket'
      ? { url: addresses.websocket?.url as string }
      : { tcp: { host: addresses.tcp?.host as string, port: addresses.tcp?.port as number } };
  return {
    key,
    store,
    file,
    addresses,
    endpoint,
    async connect(transport, identity = IdentityKey.generate(), device = 1) {
      const connection = await RelayConnection.connect(endpoint(transport), { identity, relayPublicKey: key.publicKey, device });
      t.teardown(() => connection.close());
      return connection;
    },
  };
}

/** A vault in a fresh directory, with its key, removed after the test. */
export async function vaultFor(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-messenger-'));
  const key = SecretKey.generate();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, key, open: () => Vault.open(dir, key) };
}

/** The fingerprint bytes the relay keys state by. */
export const fingerprint = (identity: IdentityKey | Uint8Array) =>
  Buffer.from(identity instanceof IdentityKey ? identity.fingerprint : IdentityKey.fingerprint(identity), 'hex');

export const clientMessageId = () => new Uint8Array(randomBytes(16));
export const text = (s: string) => new Uint8Array(Buffer.from(s));
export const str = (b: Uint8Array) => Buffer.from(b).toString();

/** Events of one kind, in order, awaited one at a time. */
export class Queue<T> {
  private readonly items: T[] = [];
  private readonly waiting: ((item: T) => void)[] = [];
  /** Everything that arrived, in order (taken or not). */
  readonly all: T[] = [];
  private readonly counts: { n: number; resolve: () => void }[] = [];
  /** How many arrived in all. */
  get count(): number {
    return this.all.length;
  }
  push = (item: T) => {
    this.all.push(item);
    for (const c of this.counts.filter((c) => this.all.length >= c.n)) {
      this.counts.splice(this.counts.indexOf(c), 1);
      c.resolve();
    }
    const w = this.waiting.shift();
    if (w) w(item);
    else this.items.push(item);
  };
  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  /** Resolves once `n` items arrived in all. */
  waitFor(n: number): Promise<void> {
    if (this.all.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.counts.push({ n, resolve }));
  }
  /** The items received and not yet taken. */
  get buffered(): readonly T[] {
    return this.items;
  }
}

export function deliveries(connection: RelayConnection): Queue<RelayDelivery> {
  const q = new Queue<RelayDelivery>();
  connection.on('deliver', q.push);
  return q;
}

// ---- prekey uploads made from a real PreKeySet ----

/**
 * An upload of a real prekey set, as a client makes it (`relayPrekeyUploads`,
 * what the Messenger sends): the signed section, `oneTime` one-time X25519
 * keys and `oneTimeKem` one-time ML-KEM keys (each signed by crates/session).
 * `bundles[i]` is what the set itself would have published with its i-th
 * one-time X25519 key (from a copy of the set taken before the upload), so
 * that tests compare the relay's composed bundle byte for byte with it.
 */
export function makeUpload(identity: IdentityKey, counts: { oneTime?: number; oneTimeKem?: number } = {}) {
  const set = PreKeySet.generate(identity, { oneTimePreKeys: counts.oneTime ?? 0, kem: true });
  set.addOneTimeKemPreKeys(counts.oneTimeKem ?? 0);
  const storageKey = new Uint8Array(randomBytes(32));
  const copy = PreKeySet.deserialize(set.serialize(storageKey), storageKey);
  const uploads = call(() => binding.relayPrekeyUploads(set.native, identity.native));
  const [first] = uploads;
  if (uploads.length !== 1 || first?.signed == null) throw new Error('makeUpload makes one upload (at most 100 keys of each kind)');
  const bundles = first.oneTime.map(() => copy.bundle());
  set.dispose();
  copy.dispose();
  return { upload: { type: 'UploadPrekeys' as const, signed: first.signed, oneTime: first.oneTime, oneTimeKem: first.oneTimeKem }, bundles };
}

// ---- raw clients ----

/** Bare Noise messages over either transport. */
export interface RawLink {
  send(message: Uint8Array): void;
  /** The next Noise message, or 'closed' once the relay closed the connection. */
  next(): Promise<Uint8Array | 'closed'>;
  closed: Promise<void>;
  destroy(): void;
}

export function rawLink(t: ExecutionContext, relay: Relay, transport: Transport): Promise<RawLink> {
  const q = new Queue<Uint8Array | 'closed'>();
  let onClosed!: () => void;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const handlers = {
    message: (m: Uint8Array) => q.push(new Uint8Array(m)),
    close: () => {
      q.push('closed');
      onClosed();
    },
  };
  return new Promise((resolve, reject) => {
    if (transport === 'websocket') {
      const ws = new WebSocket(relay.addresses.websocket?.url as string);
      const link = wsLink(ws, 'test', handlers);
      t.teardown(() => link.destroy());
      ws.once('open', () => resolve({ send: link.send, next: () => q.next(), closed, destroy: link.destroy }));
      ws.once('error', reject);
    } else {
      const socket = tcpConnect({ host: relay.addresses.tcp?.host as string, port: relay.addresses.tcp?.port as number });
      const link = tcpLink(socket, handlers);
      t.teardown(() => link.destroy());
      socket.once('connect', () => resolve({ send: link.send, next: () => q.next(), closed, destroy: link.destroy }));
      socket.once('error', reject);
    }
  });
}

/** A client run by hand on the binding: handshake, REGISTER, then frames sealed and opened one at a time. */
export class RawSession {
  private constructor(
    readonly link: RawLink,
    readonly channel: NativeRelayChannel,
    /** Message 1 as sent: what an eavesdropper could replay. */
    readonly message1: Uint8Array,
    /** The Noise messages of REGISTER as sent. */
    readonly registerMessages: Uint8Array[],
  ) {}

  static async open(t: ExecutionContext, relay: Relay, transport: Transport, identity: IdentityKey, device = 1): Promise<RawSession> {
    const link = await rawLink(t, relay, transport);
    const { handshake, message1 } = call(() => binding.RelayClientHandshake.start(identity.native, relay.key.publicKey));
    link.send(message1);
    const message2 = await link.next();
    if (message2 === 'closed') throw new Error('the relay closed during the handshake');
    const channel = call(() => handshake.finish(message2));
    const registerMessages = call(() => channel.seal({ requestId: 1, body: { type: 'Register', device } }));
    for (const m of registerMessages) link.send(m);
    const session = new RawSession(link, channel, message1, registerMessages);
    const registered = await session.frame();
    if (registered === 'closed' || registered.body.type !== 'Registered') throw new Error(`REGISTER answered ${JSON.stringify(registered)}`);
    return session;
  }

  send(frame: RelayFrame): void {
    for (const m of call(() => this.channel.seal(frame))) this.link.send(m);
  }

  /** Seals frame bytes as they are (the binding's `sealBytes`): for frames the client would not encode. */
  sendBytes(frame: Uint8Array): void {
    for (const m of call(() => this.channel.sealBytes(frame))) this.link.send(m);
  }

  /** The next whole frame from the relay, or 'closed'. */
  async frame(): Promise<RelayFrame | 'closed'> {
    for (;;) {
      const m = await this.link.next();
      if (m === 'closed') return 'closed';
      const received = call(() => this.channel.open(m));
      if (received === null || received === undefined) continue;
      if (!received.frame) throw new Error(`the relay sent a frame that does not decode: ${JSON.stringify(received.refused)}`);
      return received.frame;
    }
  }

  /** Sends `body` (or frame bytes) as request `requestId` and returns the frame that answers it (pushes before it are returned in `pushes`). */
  async request(requestId: number, body: RelayBody | Uint8Array): Promise<{ answer: RelayFrame; pushes: RelayFrame[] }> {
    if (body instanceof Uint8Array) this.sendBytes(body);
    else this.send({ requestId, body });
    const pushes: RelayFrame[] = [];
    for (;;) {
      const f = await this.frame();
      if (f === 'closed') throw new Error('the relay closed the connection');
      if (f.requestId === requestId) return { answer: f, pushes };
      pushes.push(f);
    }
  }
}

/** A frame's bytes as the codec encodes them (header: version, type, request id (4), body length (4)). */
export function encodeFrame(frame: RelayFrame): Buffer {
  return Buffer.from(call(() => binding.relayEncodeFrame(frame)));
}

/** The X25519 secret of an identity: SHA-512(seed)[0..32] (docs/relay.md "The client's static key"). */
export function x25519SecretOf(identity: IdentityKey): Uint8Array {
  return new Uint8Array(createHash('sha512').update(identity.exportSeed()).digest().subarray(0, 32));
}

export type { RelayPrekeyStatus };
