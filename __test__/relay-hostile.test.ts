/**
 * Hostile bytes on the relay's wire, beyond what relay-server.test.ts
 * covers (bad frames inside a registered channel, WebSocket text/empty/
 * oversized messages, TCP length prefixes of 0 and 65 536, replayed
 * message 1): random bytes as message 1, random and cut transport messages
 * before and after REGISTER, a valid channel carrying a body type nobody
 * knows before REGISTER and at request id 0, and cut or absurd TCP frames.
 * Each time: a typed refusal or a clean close, the relay goes on serving
 * another client, and nothing is stored (every table's rows, compared).
 * At the end, the few hostile arguments the API sweep's generic values do
 * not reach (a presence holder without its methods, an unreachable Redis).
 */

import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { openSqlite } from '../src/auth/sqlite-driver';
import { InvalidArgumentError, RelayError } from '../src/errors';
import { binding, call } from '../src/native';
import { LocalPresence } from '../src/relay/presence';
import { RedisPresence } from '../src/relay/redis-presence';
import { IdentityKey } from '../src/session';
import {
  clientMessageId,
  encodeFrame,
  fingerprint,
  RawSession,
  type Relay,
  rawLink,
  startRelay,
  type Transport,
  text,
  transports,
} from './support/relay-harness';

/** Runs `fn` as one test per transport. */
function both(title: string, fn: (t: ExecutionContext, transport: Transport) => Promise<void>) {
  for (const transport of transports) test(`${title} (${transport})`, (t) => fn(t, transport));
}

/**
 * No handshake timeout to speak of: a connection that is closed here was
 * closed by the refusal of what it sent, not by the 10 s timer (a relay that
 * kept it open would hang the test until ava's timeout fails it).
 */
const NO_TIMEOUT = { server: { handshakeTimeoutMs: 3_600_000 } };

const TABLES = ['relay_devices', 'relay_messages', 'relay_sent', 'relay_prekeys', 'relay_one_time'];

/** Every row of every relay table, read on a connection of its own: what "nothing stored" is compared on. */
function snapshot(relay: Relay): Record<string, unknown[]> {
  const { db } = openSqlite(relay.file as string);
  try {
    return Object.fromEntries(TABLES.map((table) => [table, db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all()]));
  } finally {
    db.close();
  }
}

/** The relay still serves: a new client registers, sends to another, and the other fetches it. */
async function stillServes(t: ExecutionContext, relay: Relay, transport: Transport) {
  const bob = IdentityKey.generate();
  const b = await relay.connect(transport, bob);
  const a = await relay.connect(transport);
  t.is((await a.request({ type: 'Send', recipient: bob.publicKey, device: 1, clientMessageId: clientMessageId(), body: text('still here') })).copies, 1);
  const delivered = new Promise<Uint8Array>((resolve) => b.once('deliver', (d) => resolve(d.body)));
  await b.request({ type: 'Fetch' });
  t.is(Buffer.from(await delivered).toString(), 'still here');
}

/** A FETCH frame's bytes with type 0x7e (no such type) and request id `requestId` (0 included, which the encoder refuses for FETCH). */
function unknownFrame(requestId: number): Buffer {
  const frame = encodeFrame({ requestId: 2, body: { type: 'Fetch' } });
  frame[1] = 0x7e;
  frame.writeUInt32BE(requestId, 2);
  return frame;
}

/** Everything the relay sends until it closes the link (a refusal's message 2 at most before it). */
async function untilClosed(link: { next(): Promise<Uint8Array | 'closed'> }): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  for (let m = await link.next(); m !== 'closed'; m = await link.next()) got.push(m);
  return got;
}

both('random bytes as message 1, at every interesting length, are closed unanswered and store nothing', async (t, transport) => {
  const relay = await startRelay(t, NO_TIMEOUT);
  const before = snapshot(relay);
  // Shorter than, exactly, and longer than a real message 1; and the largest Noise message.
  const real = call(() => binding.RelayClientHandshake.start(IdentityKey.generate().native, relay.key.publicKey)).message1.length;
  for (const length of [1, 31, 32, real - 1, real, real + 1, 1000, 65_535]) {
    const link = await rawLink(t, relay, transport);
    link.send(new Uint8Array(randomBytes(length)));
    t.deepEqual(await untilClosed(link), [], `${length} random bytes get no message 2`);
  }
  await stillServes(t, relay, transport);
  const after = snapshot(relay);
  t.deepEqual(after.relay_messages.length, 1, 'only the check’s own message');
  t.is(after.relay_devices.length, before.relay_devices.length + 2, 'only the check’s two devices');
});

both('after message 2, before REGISTER: random or cut transport messages close the connection; nothing is registered', async (t, transport) => {
  const relay = await startRelay(t, NO_TIMEOUT);
  const garbage = (m: Uint8Array) => [
    ['random bytes', new Uint8Array(randomBytes(80))],
    ['a cut REGISTER', m.subarray(0, m.length - 1)],
    ['a REGISTER with one bit flipped', Uint8Array.from(m, (b, i) => (i === 20 ? b ^ 1 : b))],
  ];
  for (const index of [0, 1, 2]) {
    const alice = IdentityKey.generate();
    const link = await rawLink(t, relay, transport);
    const { handshake, message1 } = call(() => binding.RelayClientHandshake.start(alice.native, relay.key.publicKey));
    link.send(message1);
    const message2 = await link.next();
    t.true(message2 instanceof Uint8Array, 'message 2');
    const channel = call(() => handshake.finish(message2 as Uint8Array));
    const [register] = call(() => channel.seal({ requestId: 1, body: { type: 'Register', device: 1 } }));
    const [name, bytes] = garbage(register)[index] as [string, Uint8Array];
    link.send(bytes);
    t.deepEqual(await untilClosed(link), [], `${name}: closed without an answer`);
    t.deepEqual(await relay.store.listDevices(fingerprint(alice)), [], `${name}: nothing registered`);
  }
  await stillServes(t, relay, transport);
});

both('a valid channel carrying an unknown body type before REGISTER: refused, closed, nothing registered', async (t, transport) => {
  const relay = await startRelay(t, NO_TIMEOUT);
  for (const requestId of [0, 1, 2]) {
    const alice = IdentityKey.generate();
    const link = await rawLink(t, relay, transport);
    const { handshake, message1 } = call(() => binding.RelayClientHandshake.start(alice.native, relay.key.publicKey));
    link.send(message1);
    const message2 = (await link.next()) as Uint8Array;
    const channel = call(() => handshake.finish(message2));
    for (const m of call(() => channel.sealBytes(unknownFrame(requestId)))) link.send(m);
    // A typed ERROR may come first; either way the connection ends without waiting for the handshake timeout (10 s).
    const answers = (await untilClosed(link)).map((m) => call(() => channel.open(m))?.frame?.body);
    for (const body of answers) t.is(body?.type, 'Error', `request id ${requestId}: only an ERROR before the close`);
    t.deepEqual(await relay.store.listDevices(fingerprint(alice)), [], `request id ${requestId}: nothing registered`);
  }
  await stillServes(t, relay, transport);
});

both('a registered client sending random or cut transport messages is closed; its peers are not, and nothing is stored', async (t, transport) => {
  const relay = await startRelay(t, NO_TIMEOUT);
  const peer = await relay.connect(transport);
  for (const kind of ['random', 'cut', 'a cut ACK body at request id 0', 'unknown type at request id 0'] as const) {
    const mallory = IdentityKey.generate();
    const session = await RawSession.open(t, relay, transport, mallory);
    const before = snapshot(relay);
    const [send] = call(() =>
      session.channel.seal({
        requestId: 2,
        body: { type: 'Send', recipient: mallory.publicKey, device: 1, clientMessageId: clientMessageId(), body: text('x') },
      }),
    );
    if (kind === 'random') session.link.send(new Uint8Array(randomBytes(send.length)));
    else if (kind === 'cut') session.link.send(send.subarray(0, send.length - 16));
    else if (kind === 'a cut ACK body at request id 0') {
      // ACK's 8-byte message id cut to 7, its header saying so: a body that does not parse.
      const ack = encodeFrame({ requestId: 2, body: { type: 'Ack', messageId: 1 } });
      const cut = Buffer.concat([ack.subarray(0, 6), Buffer.from([0, 0, 0, 7]), ack.subarray(10, 17)]);
      cut.writeUInt32BE(0, 2);
      session.sendBytes(cut);
    } else session.sendBytes(unknownFrame(0));
    const frames: string[] = [];
    for (let f = await session.frame().catch(() => 'undecodable' as const); f !== 'closed'; f = await session.frame().catch(() => 'undecodable' as const)) {
      frames.push(typeof f === 'string' ? f : f.body.type);
    }
    t.true(
      frames.every((f) => f === 'Error'),
      `${kind}: at most a typed ERROR before the close, got ${frames}`,
    );
    t.deepEqual(snapshot(relay), before, `${kind}: nothing stored`);
  }
  // The peer's connection was never touched.
  t.deepEqual(
    (await peer.request({ type: 'ListDevices', identity: IdentityKey.generate().publicKey }).catch((e) => e.code)) as unknown,
    'ERR_RELAY_UNKNOWN_RECIPIENT',
  );
  await stillServes(t, relay, transport);
});

test('TCP: a cut frame then EOF, a prefix of 2^32 − 1, and a bad prefix split over writes all close; the relay goes on', async (t) => {
  const relay = await startRelay(t, NO_TIMEOUT);
  const before = snapshot(relay);
  const prefix = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const cases: [string, Buffer[], boolean][] = [
    // Announces 200 bytes, sends 50, then half-closes: nothing to decode, the relay closes its side too.
    ['a cut frame then EOF', [Buffer.concat([prefix(200), randomBytes(50)])], true],
    ['a prefix of 2^32 − 1', [prefix(0xffff_ffff), randomBytes(64)], false],
    ['a prefix of 65 536 split over three writes', [prefix(65_536).subarray(0, 1), prefix(65_536).subarray(1, 3), prefix(65_536).subarray(3)], false],
    ['three bytes of a prefix then EOF', [prefix(10).subarray(0, 3)], true],
  ];
  for (const [name, writes, end] of cases) {
    const socket = tcpConnect({ host: relay.addresses.tcp?.host as string, port: relay.addresses.tcp?.port as number });
    t.teardown(() => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    for (const w of writes) {
      socket.write(w);
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (end) socket.end();
    await closed;
    t.deepEqual(received, [], `${name}: closed with nothing sent back`);
  }
  t.deepEqual(snapshot(relay), before, 'nothing stored');
  await stillServes(t, relay, 'tcp');
});

// ---- hostile arguments the sweep's generic values do not reach (__test__/sweep-api.test.ts covers the rest) ----

test('LocalPresence: a holder without its methods is refused at claim, not by the TypeError of the next claimer', (t) => {
  const presence = new LocalPresence();
  for (const holder of [{}, { displaced() {} }, null, 42]) {
    t.throws(() => presence.claim('mailbox', holder as never), { instanceOf: InvalidArgumentError });
  }
  let displaced = 0;
  presence.claim('mailbox', { displaced: () => displaced++, wake() {}, prekeysLow() {} });
  presence.claim('mailbox', { displaced() {}, wake() {}, prekeysLow() {} });
  t.is(displaced, 1);
  t.throws(() => presence.signal('mailbox', 'sleep' as never), { instanceOf: InvalidArgumentError });
  t.throws(() => presence.claim('', { displaced() {}, wake() {}, prekeysLow() {} }), { instanceOf: InvalidArgumentError });
});

test('RedisPresence.open: an unreachable Redis is ERR_RELAY_UNAVAILABLE, without the URL (or its password) in the message', async (t) => {
  const error = await t.throwsAsync(RedisPresence.open({ redis: 'redis://:pw-s3cret-value@127.0.0.1:1' }), { instanceOf: RelayError });
  t.is(error?.code, 'ERR_RELAY_UNAVAILABLE');
  t.false(error?.message.includes('pw-s3cret-value'));
  t.truthy((error as { cause?: unknown }).cause, 'the client’s error is kept as cause, for logs');
  await t.throwsAsync(RedisPresence.open({ redis: '' }), { instanceOf: InvalidArgumentError });
});
