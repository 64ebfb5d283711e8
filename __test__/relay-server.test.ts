/**
 * The relay server (src/relay/server.ts) and its client (RelayConnection)
 * on real sockets and a real SQLite file: every command over WebSocket AND
 * over TCP, every error code a client can reach, the handshake refusals,
 * the replay of message 1, and the delivery semantics of docs/relay.md.
 * Every test uses its own identities and its own relay.
 */

import { createServer } from 'node:http';
import { connect } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import WebSocket, { WebSocketServer } from 'ws';
import { openSqlite } from '../src/auth/sqlite-driver';
import { InvalidArgumentError, InvalidStateError } from '../src/errors';
import { RelayConnection } from '../src/relay/connection';
import { RelayKey } from '../src/relay/key';
import { Messenger } from '../src/relay/messenger';
import { createRelayServer } from '../src/relay/server';
import { RELAY_LIMITS, type RelayFrame } from '../src/relay/wire';
import { IdentityKey, NoiseHandshake } from '../src/session';
import {
  clientMessageId,
  deliveries,
  encodeFrame,
  fingerprint,
  makeUpload,
  Queue,
  RawSession,
  type Relay,
  rawLink,
  startRelay,
  str,
  type Transport,
  text,
  transports,
  vaultFor,
  x25519SecretOf,
} from './support/relay-harness';

/** Runs `fn` as one test per transport. */
function both(title: string, fn: (t: ExecutionContext, transport: Transport) => Promise<void>) {
  for (const transport of transports) test(`${title} (${transport})`, (t) => fn(t, transport));
}

/** Expects `promise` to reject with a relay error of `code`; returns it. */
async function refused(t: ExecutionContext, promise: Promise<unknown>, code: string) {
  const error = await t.throwsAsync(promise);
  t.is((error as { code?: string }).code, code);
  return error as Error & { code: string; retryAfterMs?: number };
}

const send = (to: IdentityKey, body: string, device = 1, id = clientMessageId()) =>
  ({ type: 'Send', clientMessageId: id, recipient: to.publicKey, device, body: text(body) }) as const;

// ---- the commands ----

both('REGISTER answers the limits and the relay time; LIST_DEVICES lists the registered devices', async (t, transport) => {
  let now = 1_700_000_000_000;
  const relay = await startRelay(t, { server: { clock: () => now, limits: { maxBody: 4096, maxInFlight: 7 } } });
  const alice = IdentityKey.generate();
  const one = await relay.connect(transport, alice, 1);
  t.deepEqual(one.limits, { maxBody: 4096, maxInFlight: 7, relayTimeMs: now });
  now += 5;
  await relay.connect(transport, alice, 9);
  const bob = await relay.connect(transport);
  t.deepEqual((await bob.request({ type: 'ListDevices', identity: alice.publicKey })).devices, [1, 9]);
  await refused(t, bob.request({ type: 'ListDevices', identity: IdentityKey.generate().publicKey }), 'ERR_RELAY_UNKNOWN_RECIPIENT');
});

both('a REGISTER the store refuses (one device too many) rejects connect with its code', async (t, transport) => {
  const relay = await startRelay(t, { storeLimits: { maxDevices: 1 } });
  const alice = IdentityKey.generate();
  await relay.connect(transport, alice, 1);
  await refused(t, RelayConnection.connect(relay.endpoint(transport), { identity: alice, relayPublicKey: relay.key.publicKey, device: 2 }), 'ERR_RELAY_QUOTA');
  t.deepEqual(await relay.store.listDevices(fingerprint(alice)), [1]);
});

both('SEND stores durably before SENT, is idempotent by client message id, and device 0 reaches every device', async (t, transport) => {
  const now = 1_700_000_000_000;
  const relay = await startRelay(t, { server: { clock: () => now } });
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const b1 = await relay.connect(transport, bob, 1);
  await relay.connect(transport, bob, 2);
  const a = await relay.connect(transport, alice, 3);
  const id = clientMessageId();
  const sent = await a.request(send(bob, 'hello', 1, id));
  t.deepEqual(sent, { type: 'Sent', storedAtMs: now, copies: 1 });
  // SENT came after the commit: the store has it.
  const stored = await relay.store.pending({ identity: fingerprint(bob), device: 1 }, { limit: 10, now });
  t.is(stored.length, 1);
  t.deepEqual(Buffer.from(stored[0].sender), Buffer.from(alice.publicKey));
  t.is(stored[0].senderDevice, 3);
  // A retry stores nothing new.
  t.deepEqual(await a.request(send(bob, 'hello', 1, id)), { type: 'Sent', storedAtMs: now, copies: 1 });
  t.is((await relay.store.pending({ identity: fingerprint(bob), device: 1 }, { limit: 10, now })).length, 1);
  // Device 0: one copy per registered device.
  t.is((await a.request(send(bob, 'to all', 0))).copies, 2);
  const got = deliveries(b1);
  await b1.request({ type: 'Fetch' });
  t.deepEqual(
    got.all.map((d) => str(d.body)),
    ['hello', 'to all'],
  );
  t.deepEqual(Buffer.from(got.all[0].sender), Buffer.from(alice.publicKey));
  t.is(got.all[0].senderDevice, 3);
  t.is(got.all[0].receivedAtMs, now);
  await refused(t, a.request(send(IdentityKey.generate(), 'nobody')), 'ERR_RELAY_UNKNOWN_RECIPIENT');
  await refused(t, a.request(send(bob, 'no such device', 5)), 'ERR_RELAY_UNKNOWN_RECIPIENT');
  await refused(t, a.request(send(IdentityKey.generate(), 'nobody', 0)), 'ERR_RELAY_UNKNOWN_RECIPIENT');
});

both('FETCH delivers the backlog in order, then QUEUE_EMPTY, then new messages live; ACK deletes (idempotent)', async (t, transport) => {
  t.timeout(30_000);
  // No poll within the test: only the wake-up of the send can deliver the live message.
  const relay = await startRelay(t, { server: { pollIntervalMs: 3_600_000 } });
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const a = await relay.connect(transport, alice);
  // A mailbox exists once its device registered: before that, a send is refused.
  await refused(t, a.request(send(bob, 'too early')), 'ERR_RELAY_UNKNOWN_RECIPIENT');
  const b = await relay.connect(transport, bob);
  for (const body of ['one', 'two', 'three']) await a.request(send(bob, body));
  const got = deliveries(b);
  let emptyAt = -1;
  await b.request({ type: 'Fetch' }).then(() => (emptyAt = got.count));
  t.is(emptyAt, 3, 'QUEUE_EMPTY follows the backlog’s last DELIVER');
  const backlog = got.all.slice();
  t.deepEqual(
    backlog.map((d) => str(d.body)),
    ['one', 'two', 'three'],
  );
  t.true(backlog[0].messageId < backlog[1].messageId && backlog[1].messageId < backlog[2].messageId);
  // Live: a send after QUEUE_EMPTY wakes the fetching connection.
  await a.request(send(bob, 'live'));
  await got.waitFor(4);
  const live = got.all[3];
  t.is(str(live.body), 'live');
  for (const d of [...backlog, live]) t.deepEqual(await b.request({ type: 'Ack', messageId: d.messageId }), { type: 'Acked' });
  t.deepEqual(await b.request({ type: 'Ack', messageId: live.messageId }), { type: 'Acked' }, 'acking again is fine');
  t.deepEqual(await b.request({ type: 'Ack', messageId: 999_999 }), { type: 'Acked' }, 'acking an unknown id is fine');
  t.is((await relay.store.pending({ identity: fingerprint(bob), device: 1 }, { limit: 10, now: Date.now() })).length, 0);
});

both('UPLOAD_PREKEYS stores verified prekeys; GET_BUNDLE claims one of each kind and composes the bundle', async (t, transport) => {
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const b = await relay.connect(transport, bob, 4);
  const { upload, bundles } = makeUpload(bob, { oneTime: 3, oneTimeKem: 2 });
  const stored = await b.request(upload);
  t.deepEqual(stored.status, {
    oneTime: 3,
    oneTimeKem: 2,
    signedId: upload.signed.id,
    maxOneTimeId: upload.oneTime[2].id,
    maxOneTimeKemId: 2,
  });
  // An empty upload reads the status.
  t.deepEqual((await b.request({ type: 'UploadPrekeys', oneTime: [], oneTimeKem: [] })).status, stored.status);
  const alice = await relay.connect(transport);
  const first = await alice.request({ type: 'GetBundle', identity: bob.publicKey, device: 4 });
  t.is(first.device, 4);
  t.deepEqual(Buffer.from(first.bundle), Buffer.from(bundles[0]), 'byte for byte what the set published with its first one-time key');
  t.is(first.oneTimeKem?.id, 1);
  t.deepEqual(Buffer.from(first.oneTimeKem?.key ?? []), Buffer.from(upload.oneTimeKem[0].key));
  const second = await alice.request({ type: 'GetBundle', identity: bob.publicKey, device: 4 });
  t.deepEqual(Buffer.from(second.bundle), Buffer.from(bundles[1]));
  t.is(second.oneTimeKem?.id, 2);
  const third = await alice.request({ type: 'GetBundle', identity: bob.publicKey, device: 4 });
  t.deepEqual(Buffer.from(third.bundle), Buffer.from(bundles[2]));
  t.is(third.oneTimeKem ?? undefined, undefined, 'no one-time ML-KEM key left: the last-resort one is in the bundle');
  await refused(t, alice.request({ type: 'GetBundle', identity: bob.publicKey, device: 5 }), 'ERR_RELAY_UNKNOWN_RECIPIENT');
});

// ---- error codes ----

both('REGISTER twice is NOT_ALLOWED and the connection goes on', async (t, transport) => {
  const relay = await startRelay(t);
  const session = await RawSession.open(t, relay, transport, IdentityKey.generate());
  const { answer } = await session.request(2, { type: 'Register', device: 2 });
  t.deepEqual(answer.body, { type: 'Error', code: 'ERR_RELAY_NOT_ALLOWED', retryAfterMs: 0 });
  const { answer: fetched } = await session.request(3, { type: 'Fetch' });
  t.is(fetched.body.type, 'QueueEmpty');
});

both('frames the relay cannot take are answered ERROR with their request id, and the connection goes on', async (t, transport) => {
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const session = await RawSession.open(t, relay, transport, bob);
  const error = (code: string) => ({ type: 'Error', code, retryAfterMs: 0 });
  // An unknown type.
  const unknown = encodeFrame({ requestId: 2, body: { type: 'Fetch' } });
  unknown[1] = 0x10;
  t.deepEqual((await session.request(2, unknown)).answer, { requestId: 2, body: error('ERR_RELAY_UNKNOWN_COMMAND') });
  // Another version.
  const version = encodeFrame({ requestId: 3, body: { type: 'Fetch' } });
  version[0] = 0x02;
  t.deepEqual((await session.request(3, version)).answer, { requestId: 3, body: error('ERR_RELAY_UNSUPPORTED_VERSION') });
  // A body that does not parse: ACK with 7 bytes instead of 8.
  const ack = encodeFrame({ requestId: 4, body: { type: 'Ack', messageId: 1 } });
  const truncated = Buffer.concat([ack.subarray(0, 6), Buffer.from([0, 0, 0, 7]), ack.subarray(10, 17)]);
  t.deepEqual((await session.request(4, truncated)).answer, { requestId: 4, body: error('ERR_RELAY_MALFORMED') });
  // A relay-to-client type from the client.
  const acked = encodeFrame({ requestId: 5, body: { type: 'Acked' } });
  t.deepEqual((await session.request(5, acked)).answer, { requestId: 5, body: error('ERR_RELAY_NOT_ALLOWED') });
  // A body one byte over MAX_BODY in a frame under MAX_FRAME: TOO_LARGE, nothing stored.
  const full = encodeFrame({ requestId: 6, body: { ...send(bob, ''), body: new Uint8Array(RELAY_LIMITS.maxBody) } });
  const over = Buffer.concat([full, Buffer.from([7])]);
  over.writeUInt32BE(full.length - 10 + 1, 6);
  over.writeUInt32BE(RELAY_LIMITS.maxBody + 1, 10 + 52);
  t.deepEqual((await session.request(6, over)).answer, { requestId: 6, body: error('ERR_RELAY_TOO_LARGE') });
  t.is((await relay.store.pending({ identity: fingerprint(bob), device: 1 }, { limit: 10, now: Date.now() })).length, 0);
  // The connection went on through all of it.
  const { answer } = await session.request(7, { ...send(bob, ''), body: new Uint8Array(RELAY_LIMITS.maxBody) });
  t.is(answer.body.type, 'Sent');
});

both('a first upload without a signed prekey is NOT_ALLOWED; a stale id STALE_KEY_ID; a bad signature BAD_SIGNATURE', async (t, transport) => {
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const b = await relay.connect(transport, bob);
  const { upload } = makeUpload(bob, { oneTime: 2, oneTimeKem: 1 });
  await refused(t, b.request({ ...upload, signed: undefined }), 'ERR_RELAY_NOT_ALLOWED');
  // A flipped bit in the signed section's signature, then in a one-time ML-KEM key's signature.
  const badSigned = new Uint8Array(upload.signed.bytes);
  badSigned[badSigned.length - 1] ^= 1;
  await refused(t, b.request({ ...upload, signed: { ...upload.signed, bytes: badSigned } }), 'ERR_RELAY_BAD_SIGNATURE');
  const badKem = new Uint8Array(upload.oneTimeKem[0].key);
  badKem[badKem.length - 1] ^= 1;
  await refused(t, b.request({ ...upload, oneTimeKem: [{ id: 1, key: badKem }] }), 'ERR_RELAY_BAD_SIGNATURE');
  // Another identity's upload is not this one's.
  const other = makeUpload(IdentityKey.generate(), { oneTime: 1 });
  await refused(t, b.request(other.upload), 'ERR_RELAY_BAD_SIGNATURE');
  t.deepEqual((await b.request({ type: 'UploadPrekeys', oneTime: [], oneTimeKem: [] })).status.signedId, 0, 'nothing was stored');
  await b.request(upload);
  await refused(t, b.request({ type: 'UploadPrekeys', oneTime: [upload.oneTime[0]], oneTimeKem: [] }), 'ERR_RELAY_STALE_KEY_ID');
});

both('a body over the configured maximum is TOO_LARGE and nothing is stored', async (t, transport) => {
  const relay = await startRelay(t, { server: { limits: { maxBody: 100 } } });
  const bob = IdentityKey.generate();
  await relay.connect(transport, bob);
  const a = await relay.connect(transport);
  t.is(a.limits.maxBody, 100);
  await refused(t, a.request({ ...send(bob, ''), body: new Uint8Array(101) }), 'ERR_RELAY_TOO_LARGE');
  t.is((await a.request({ ...send(bob, ''), body: new Uint8Array(100) })).copies, 1);
  t.is((await relay.store.pending({ identity: fingerprint(bob), device: 1 }, { limit: 10, now: Date.now() })).length, 1);
});

both('a full mailbox is QUOTA, all or nothing for device 0', async (t, transport) => {
  const relay = await startRelay(t, { storeLimits: { quotaMessages: 2 } });
  const bob = IdentityKey.generate();
  await relay.connect(transport, bob, 1);
  await relay.connect(transport, bob, 2);
  const a = await relay.connect(transport);
  await a.request(send(bob, 'one', 1));
  await a.request(send(bob, 'two', 1));
  await refused(t, a.request(send(bob, 'three', 1)), 'ERR_RELAY_QUOTA');
  await refused(t, a.request(send(bob, 'all', 0)), 'ERR_RELAY_QUOTA');
  t.is((await relay.store.pending({ identity: fingerprint(bob), device: 2 }, { limit: 10, now: Date.now() })).length, 0);
});

both('the 7th bundle fetch of one pair in the window is RATE_LIMITED with a retry-after; another requester is not', async (t, transport) => {
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const b = await relay.connect(transport, bob);
  await b.request(makeUpload(bob, { oneTime: 1 }).upload);
  const a = await relay.connect(transport);
  for (let i = 0; i < RELAY_LIMITS.bundleFetchesPerWindow; i++) await a.request({ type: 'GetBundle', identity: bob.publicKey, device: 1 });
  const error = await refused(t, a.request({ type: 'GetBundle', identity: bob.publicKey, device: 1 }), 'ERR_RELAY_RATE_LIMITED');
  t.true((error.retryAfterMs ?? 0) > 0 && (error.retryAfterMs ?? 0) <= RELAY_LIMITS.bundleFetchWindowMs);
  const c = await relay.connect(transport);
  t.is((await c.request({ type: 'GetBundle', identity: bob.publicKey, device: 1 })).device, 1);
});

both('a store that cannot commit (its file locked past the busy timeout) answers UNAVAILABLE with a retry-after', async (t, transport) => {
  const errors: unknown[] = [];
  const relay = await startRelay(t, { busyTimeoutMs: 20, server: { unavailableRetryMs: 1500, onError: (e) => errors.push(e) } });
  const bob = IdentityKey.generate();
  await relay.connect(transport, bob);
  const a = await relay.connect(transport);
  // Another connection holds SQLite's write lock: the store's enqueue gives up after its busy timeout.
  const { db } = openSqlite(relay.file as string);
  db.exec('BEGIN IMMEDIATE');
  try {
    const error = await refused(t, a.request(send(bob, 'later')), 'ERR_RELAY_UNAVAILABLE');
    t.is(error.retryAfterMs, 1500);
  } finally {
    db.exec('ROLLBACK');
    db.close();
  }
  t.is((await a.request(send(bob, 'now'))).copies, 1, 'the connection goes on once the store is back');
  t.deepEqual(errors, [], 'the store’s own UNAVAILABLE is a refusal, not a failure to report');
});

both('any other store failure (here: the store closed under the server) is UNAVAILABLE and goes to onError', async (t, transport) => {
  const errors: unknown[] = [];
  const relay = await startRelay(t, { server: { unavailableRetryMs: 2500, onError: (e) => errors.push(e) } });
  const bob = IdentityKey.generate();
  await relay.connect(transport, bob);
  const a = await relay.connect(transport);
  await relay.store.close();
  const error = await refused(t, a.request(send(bob, 'lost')), 'ERR_RELAY_UNAVAILABLE');
  t.is(error.retryAfterMs, 2500);
  t.is(errors.length, 1);
  t.true(errors[0] instanceof InvalidStateError);
  // The connection is still up: the next request is answered too.
  await refused(t, a.request({ type: 'ListDevices', identity: bob.publicKey }), 'ERR_RELAY_UNAVAILABLE');
});

// ---- the transports ----

test('WebSocket: a message over 65 535 bytes, a text message or an empty one ends the connection', async (t) => {
  const relay = await startRelay(t);
  const url = relay.addresses.websocket?.url as string;
  const closeCode = (send: (ws: WebSocket) => void) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('open', () => send(ws));
      ws.on('close', (code) => resolve(code));
      ws.on('error', () => {});
      setTimeout(() => reject(new Error('still open')), 20_000).unref();
    });
  t.is(await closeCode((ws) => ws.send(new Uint8Array(RELAY_LIMITS.maxNoiseMessage + 1))), 1009, 'too big, refused by maxPayload');
  t.is(await closeCode((ws) => ws.send('text')), 1006);
  t.is(await closeCode((ws) => ws.send(new Uint8Array(0))), 1006);
});

test('WebSocket keep-alive: the relay pings every keepAliveMs; a peer that answers none is closed, one that answers stays', async (t) => {
  // The handshake timeout is far away: only the missing pongs can end the silent peer's connection.
  const relay = await startRelay(t, { server: { keepAliveMs: 200, handshakeTimeoutMs: 60_000 } });
  const url = relay.addresses.websocket?.url as string;
  const open = (autoPong: boolean) =>
    new Promise<{ ws: WebSocket; pings: () => number; closed: Promise<void> }>((resolve, reject) => {
      const ws = new WebSocket(url, { autoPong });
      let pings = 0;
      ws.on('ping', () => pings++);
      ws.on('error', () => {});
      const closed = new Promise<void>((done) => ws.once('close', () => done()));
      ws.once('open', () => resolve({ ws, pings: () => pings, closed }));
      ws.once('error', reject);
      t.teardown(() => ws.terminate());
    });
  const [deaf, answering] = [await open(false), await open(true)];
  await deaf.closed;
  t.true(deaf.pings() >= 1, 'it was pinged before being closed');
  await new Promise((resolve) => setTimeout(resolve, 600));
  t.is(answering.ws.readyState, WebSocket.OPEN, 'the peer that answers its pings is still connected');
  t.true(answering.pings() >= 2);
});

test('keepAliveMs must be a whole number from 0 to 2^31 − 1 (server, connection, messenger)', async (t) => {
  const relay = await startRelay(t);
  const { key, store } = relay;
  const identity = IdentityKey.generate();
  const vault = await (await vaultFor(t)).open();
  for (const keepAliveMs of [-1, 1.5, '30000', 2 ** 31, Number.NaN, null]) {
    const bad = keepAliveMs as number;
    t.throws(() => createRelayServer({ key, store, keepAliveMs: bad }), { instanceOf: InvalidArgumentError, message: /keepAliveMs/ });
    await t.throwsAsync(RelayConnection.connect(relay.endpoint('websocket'), { identity, relayPublicKey: key.publicKey, device: 1, keepAliveMs: bad }), {
      instanceOf: InvalidArgumentError,
      message: /keepAliveMs/,
    });
    await t.throwsAsync(Messenger.open({ vault, relay: relay.endpoint('websocket'), relayPublicKey: key.publicKey, keepAliveMs: bad }), {
      instanceOf: InvalidArgumentError,
      message: /keepAliveMs/,
    });
  }
});

test('TCP: a length prefix of 0 or over 65 535 ends the connection at once', async (t) => {
  const relay = await startRelay(t);
  for (const length of [0, RELAY_LIMITS.maxNoiseMessage + 1]) {
    const socket = connect({ host: relay.addresses.tcp?.host as string, port: relay.addresses.tcp?.port as number });
    await new Promise((resolve) => socket.once('connect', resolve));
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(length);
    socket.write(prefix);
    await new Promise((resolve) => socket.once('close', resolve));
    t.pass();
  }
});

test('attach(): the relay serves its path on your HTTP server and leaves other upgrades alone', async (t) => {
  const relay = await startRelay(t);
  const { createRelayServer } = await import('../src/relay/server');
  const http = createServer();
  const other = new WebSocketServer({ noServer: true });
  http.on('upgrade', (request, socket, head) => {
    if (request.url === '/other') other.handleUpgrade(request, socket, head, (ws) => ws.send('other'));
  });
  const server = createRelayServer({ key: relay.key, store: relay.store });
  server.attach(http, '/relay');
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    await server.close();
    other.close();
    await new Promise((resolve) => http.close(resolve));
  });
  const port = (http.address() as { port: number }).port;
  const c = await RelayConnection.connect(
    { url: `ws://127.0.0.1:${port}/relay` },
    { identity: IdentityKey.generate(), relayPublicKey: relay.key.publicKey, device: 1 },
  );
  t.is((await c.request({ type: 'Fetch' })).type, 'QueueEmpty');
  await c.close();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
  t.is(String(await new Promise((resolve) => ws.once('message', resolve))), 'other');
  ws.close();
});

// ---- the handshake ----

both('a client pinning another relay key fails with ERR_RELAY_HANDSHAKE: the relay closes without answering', async (t, transport) => {
  const relay = await startRelay(t);
  const other = RelayKey.generate();
  await refused(
    t,
    RelayConnection.connect(relay.endpoint(transport), { identity: IdentityKey.generate(), relayPublicKey: other.publicKey, device: 1 }),
    'ERR_RELAY_HANDSHAKE',
  );
  other.dispose();
});

/** Message 1 made with the generic Noise handshake: any static key, any payload. */
function craftedMessage1(relay: Relay, localStatic: Uint8Array, payload: Uint8Array) {
  const handshake = new NoiseHandshake('Noise_IK_25519_ChaChaPoly_BLAKE2s', {
    initiator: true,
    localStatic,
    remoteStatic: relay.key.publicKey,
    prologue: 'keyward relay',
  });
  return { handshake, message1: handshake.write(payload) };
}

/** Sends a crafted message 1 and returns message 2's status code; the relay then closes. */
async function handshakeStatus(t: ExecutionContext, relay: Relay, transport: Transport, localStatic: Uint8Array, payload: Uint8Array) {
  const link = await rawLink(t, relay, transport);
  const { handshake, message1 } = craftedMessage1(relay, localStatic, payload);
  link.send(message1);
  const message2 = await link.next();
  if (message2 === 'closed') throw new Error('no message 2');
  const answer = handshake.read(message2);
  t.is(answer.length, 3);
  t.is(answer[0], 1, 'version 1');
  t.is(await link.next(), 'closed', 'the relay closes after a refusal');
  return Buffer.from(answer).readUInt16BE(1);
}

both('message 1 refusals: IDENTITY_MISMATCH, UNSUPPORTED_VERSION, MALFORMED (in message 2, then closed)', async (t, transport) => {
  const relay = await startRelay(t);
  const alice = IdentityKey.generate();
  const mallory = IdentityKey.generate();
  const claim = (version: number, identity: IdentityKey) => new Uint8Array([version, ...identity.publicKey]);
  // Alice's static key claiming Mallory's identity.
  t.is(await handshakeStatus(t, relay, transport, x25519SecretOf(alice), claim(1, mallory)), 0x000b);
  t.is(await handshakeStatus(t, relay, transport, x25519SecretOf(alice), claim(2, alice)), 0x0002);
  t.is(await handshakeStatus(t, relay, transport, x25519SecretOf(alice), claim(1, alice).subarray(0, 20)), 0x0001);
  // The same crafted message 1 with the right claim is accepted (status 0): the crafting is faithful.
  const link = await rawLink(t, relay, transport);
  const { handshake, message1 } = craftedMessage1(relay, x25519SecretOf(alice), claim(1, alice));
  link.send(message1);
  const message2 = await link.next();
  t.not(message2, 'closed');
  t.deepEqual([...handshake.read(message2 as Uint8Array)], [1, 0, 0]);
});

both('a replayed message 1 gets a fresh message 2 but can run nothing: no displacement, no registration', async (t, transport) => {
  const relay = await startRelay(t);
  const victim = IdentityKey.generate();
  const session = await RawSession.open(t, relay, transport, victim, 1);
  const before = await relay.store.listDevices(fingerprint(victim));
  t.deepEqual(before, [1]);
  // The attacker replays message 1 and the victim's REGISTER messages on a new connection.
  const replay = await rawLink(t, relay, transport);
  replay.send(session.message1);
  const message2 = await replay.next();
  t.true(message2 instanceof Uint8Array, 'message 1 is replayable: it gets an answer');
  for (const m of session.registerMessages) replay.send(m);
  t.is(await replay.next(), 'closed', 'a transport message that does not decrypt ends the connection');
  // Another replay trying to register device 2 with the old channel's messages fares the same.
  const replay2 = await rawLink(t, relay, transport);
  replay2.send(session.message1);
  await replay2.next();
  replay2.send(new Uint8Array(64));
  t.is(await replay2.next(), 'closed');
  // The victim's connection was neither displaced nor touched, and nothing was registered.
  const { answer, pushes } = await session.request(7, { type: 'ListDevices', identity: victim.publicKey });
  t.deepEqual(answer.body, { type: 'Devices', devices: [1] });
  t.deepEqual(pushes, [], 'no DISPLACED');
  t.deepEqual(await relay.store.listDevices(fingerprint(victim)), before);
});

both('a connection that does not REGISTER first is closed', async (t, transport) => {
  const relay = await startRelay(t);
  const link = await rawLink(t, relay, transport);
  const { binding, call } = await import('../src/native');
  const alice = IdentityKey.generate();
  const { handshake, message1 } = call(() => binding.RelayClientHandshake.start(alice.native, relay.key.publicKey));
  link.send(message1);
  const message2 = (await link.next()) as Uint8Array;
  const channel = call(() => handshake.finish(message2));
  for (const m of call(() => channel.seal({ requestId: 1, body: { type: 'Fetch' } }))) link.send(m);
  t.is(await link.next(), 'closed');
  t.deepEqual(await relay.store.listDevices(fingerprint(alice)), []);
});

both('a connection that has not registered within handshakeTimeoutMs is closed', async (t, transport) => {
  // Long enough for message 1 and 2 to cross on a loaded machine; REGISTER never comes.
  const relay = await startRelay(t, { server: { handshakeTimeoutMs: 2000 } });
  const silent = await rawLink(t, relay, transport);
  t.is(await silent.next(), 'closed', 'no message 1');
  const link = await rawLink(t, relay, transport);
  const { binding, call } = await import('../src/native');
  const { message1 } = call(() => binding.RelayClientHandshake.start(IdentityKey.generate().native, relay.key.publicKey));
  link.send(message1);
  t.true((await link.next()) instanceof Uint8Array, 'message 2');
  t.is(await link.next(), 'closed', 'no REGISTER');
});

// ---- delivery semantics ----

both('unacked deliveries come again on the next connection’s FETCH; acked ones never', async (t, transport) => {
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const a = await relay.connect(transport);
  const b1 = await relay.connect(transport, bob);
  for (const body of ['one', 'two', 'three']) await a.request(send(bob, body));
  const got1 = deliveries(b1);
  await b1.request({ type: 'Fetch' });
  t.deepEqual(
    got1.all.map((d) => str(d.body)),
    ['one', 'two', 'three'],
  );
  await b1.request({ type: 'Ack', messageId: got1.all[1].messageId });
  await b1.close();
  const b2 = await relay.connect(transport, bob);
  const got2 = deliveries(b2);
  await b2.request({ type: 'Fetch' });
  t.deepEqual(
    got2.all.map((d) => str(d.body)),
    ['one', 'three'],
  );
  t.deepEqual(
    got2.all.map((d) => d.messageId),
    [got1.all[0].messageId, got1.all[2].messageId],
  );
});

both('at most maxInFlight DELIVERs are unacked; each ACK lets one more through; QUEUE_EMPTY after the backlog', async (t, transport) => {
  const cap = 3;
  const relay = await startRelay(t, { server: { limits: { maxInFlight: cap } } });
  const bob = IdentityKey.generate();
  const a = await relay.connect(transport);
  const b = await relay.connect(transport, bob);
  for (let i = 0; i < 5; i++) await a.request(send(bob, `m${i}`));
  const got = deliveries(b);
  let empty = false;
  const fetched = b.request({ type: 'Fetch' }).then(() => (empty = true));
  /**
   * After `n` DELIVERs, a round trip: the relay sends a batch of DELIVERs in
   * one go, so any DELIVER beyond the cap would have come before the answer
   * to a request sent after the batch's last one.
   */
  const settle = async (n: number) => {
    await got.waitFor(n);
    await b.request({ type: 'ListDevices', identity: bob.publicKey });
  };
  await settle(cap);
  t.is(got.count, cap, 'the cap holds with nothing acked');
  t.false(empty);
  await b.request({ type: 'Ack', messageId: got.all[0].messageId });
  await settle(cap + 1);
  t.is(got.count, cap + 1, 'one ACK, one more DELIVER');
  t.false(empty);
  await b.request({ type: 'Ack', messageId: got.all[1].messageId });
  await fetched;
  t.is(got.count, 5);
  t.deepEqual(
    got.all.map((d) => str(d.body)),
    ['m0', 'm1', 'm2', 'm3', 'm4'],
  );
});

both('the poll delivers what no wake-up announced (a message stored behind the server’s back)', async (t, transport) => {
  t.timeout(60_000); // without the poll, nothing would come
  const relay = await startRelay(t, { server: { pollIntervalMs: 20 } });
  const bob = IdentityKey.generate();
  const b = await relay.connect(transport, bob);
  const got = deliveries(b);
  await b.request({ type: 'Fetch' });
  // As another instance would: straight into the store, no wake-up here.
  await relay.store.enqueue({
    recipient: fingerprint(bob),
    device: 1,
    sender: IdentityKey.generate().publicKey,
    senderDevice: 1,
    clientMessageId: clientMessageId(),
    body: text('from elsewhere'),
    now: Date.now(),
  });
  t.is(str((await got.next()).body), 'from elsewhere');
});

both('a second connection of one identity and device DISPLACEs the first, which closes; the second gets its unacked messages', async (t, transport) => {
  t.timeout(30_000); // a missing push would otherwise wait for AVA's 5 minutes
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const a = await relay.connect(transport);
  const first = await relay.connect(transport, bob);
  await a.request(send(bob, 'kept'));
  const got1 = deliveries(first);
  await first.request({ type: 'Fetch' });
  t.is(got1.count, 1);
  const displaced = new Promise<void>((resolve) => first.once('displaced', resolve));
  const closed = new Promise<Error | undefined>((resolve) => first.once('close', resolve));
  const other = await relay.connect(transport, bob, 2);
  const second = await relay.connect(transport, bob);
  await displaced;
  await closed;
  await refused(t, first.request({ type: 'Fetch' }), 'ERR_RELAY_CLOSED');
  const got2 = deliveries(second);
  await second.request({ type: 'Fetch' });
  t.deepEqual(
    got2.all.map((d) => str(d.body)),
    ['kept'],
  );
  // Another device of the same identity is not displaced.
  t.is((await other.request({ type: 'ListDevices', identity: bob.publicKey })).devices.length, 2);
});

both('PREKEYS_LOW: after REGISTER when short, and pushed to the connected device when a claim leaves it short', async (t, transport) => {
  t.timeout(30_000); // a missing push would otherwise wait for AVA's 5 minutes
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const b1 = await relay.connect(transport, bob);
  const { upload } = makeUpload(bob, { oneTime: 2, oneTimeKem: 1 });
  await b1.request(upload);
  await b1.close();
  const b2 = await RelayConnection.connect(relay.endpoint(transport), { identity: bob, relayPublicKey: relay.key.publicKey, device: 1 });
  t.teardown(() => b2.close());
  const low = new Queue<unknown>();
  b2.on('prekeysLow', low.push);
  t.deepEqual(await low.next(), { oneTime: 2, oneTimeKem: 1, signedId: upload.signed.id, maxOneTimeId: upload.oneTime[1].id, maxOneTimeKemId: 1 });
  const a = await relay.connect(transport);
  await a.request({ type: 'GetBundle', identity: bob.publicKey, device: 1 });
  t.deepEqual(await low.next(), { oneTime: 1, oneTimeKem: 0, signedId: upload.signed.id, maxOneTimeId: upload.oneTime[1].id, maxOneTimeKemId: 1 });
  // A device that never uploaded gets no PREKEYS_LOW.
  const fresh = await RelayConnection.connect(relay.endpoint(transport), { identity: IdentityKey.generate(), relayPublicKey: relay.key.publicKey, device: 1 });
  const lows: unknown[] = [];
  fresh.on('prekeysLow', (s) => lows.push(s));
  await fresh.request({ type: 'ListDevices', identity: bob.publicKey });
  t.deepEqual(lows, []);
  await fresh.close();
});

// ---- the server's life ----

test('expired messages are purged on the purge interval, by the relay’s clock', async (t) => {
  t.timeout(60_000);
  let now = 1_700_000_000_000;
  const relay = await startRelay(t, { storeLimits: { ttlMs: 1000 }, server: { clock: () => now, purgeIntervalMs: 20 } });
  const bob = IdentityKey.generate();
  await relay.connect('tcp', bob);
  const a = await relay.connect('websocket');
  await a.request(send(bob, 'expires'));
  const { db } = openSqlite(relay.file as string);
  t.teardown(() => db.close());
  const count = () => (db.prepare('SELECT count(*) AS n FROM relay_messages').get() as { n: number }).n;
  t.is(count(), 1);
  now += 1001;
  while (count() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  t.is(count(), 0);
});

test('close() ends every connection and leaves the store open for its owner', async (t) => {
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const b = await relay.connect('tcp', bob);
  const { createRelayServer } = await import('../src/relay/server');
  const server = createRelayServer({ key: relay.key, store: relay.store });
  const addresses = await server.listen({ tcp: { port: 0 } });
  const c = await RelayConnection.connect(
    { tcp: { host: addresses.tcp?.host as string, port: addresses.tcp?.port as number } },
    { identity: IdentityKey.generate(), relayPublicKey: relay.key.publicKey, device: 1 },
  );
  const cClosed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
  await server.close();
  await cClosed;
  t.deepEqual(await relay.store.listDevices(fingerprint(bob)), [1], 'the store still answers');
  t.is((await b.request({ type: 'ListDevices', identity: bob.publicKey })).devices[0], 1, 'the other server is untouched');
});

both('on the wire: the backlog’s DELIVERs (request id 0), then QUEUE_EMPTY with the FETCH’s request id', async (t, transport) => {
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const session = await RawSession.open(t, relay, transport, bob);
  const a = await relay.connect(transport);
  for (const body of ['one', 'two', 'three']) await a.request(send(bob, body));
  const { answer, pushes } = await session.request(9, { type: 'Fetch' });
  t.deepEqual(answer, { requestId: 9, body: { type: 'QueueEmpty' } });
  t.deepEqual(
    pushes.map((f: RelayFrame) => [f.requestId, f.body.type, f.body.type === 'Deliver' ? str(f.body.body) : '']),
    [
      [0, 'Deliver', 'one'],
      [0, 'Deliver', 'two'],
      [0, 'Deliver', 'three'],
    ],
  );
});
