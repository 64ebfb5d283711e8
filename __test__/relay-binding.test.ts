/**
 * The relay protocol's binding (crates/node/src/relay.rs): frames cross as
 * objects and back unchanged, every byte field and number is checked with a
 * typed error, the prekey checks and the composed bundle are crates/relay's,
 * and the relay's refusals surface as `RelayError` with the wire code.
 */
import test from 'ava';
import { IdentityKey, InvalidArgumentError, InvalidStateError, PreKeySet, RelayError, Session } from '../src/index';
import type { RelayBody, RelayChannel, RelayFrame } from '../native/binding';
import { binding, call } from '../src/native';

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

/** A client and the relay's end of one accepted connection, registered. */
function connected() {
  const key = binding.RelayKey.generate();
  const alice = IdentityKey.generate();
  const { handshake, message1 } = binding.RelayClientHandshake.start(alice.native, key.publicKey);
  const answer = key.respond(message1);
  const accepted = answer.accepted;
  if (accepted === undefined) throw new Error('refused');
  const client = handshake.finish(answer.message2);
  const relay = accepted.channel;
  deliver(client, relay, { requestId: 1, body: { type: 'Register', device: 1 } });
  return { key, alice, client, relay, accepted };
}

/** Seals `frame` on one end and opens it on the other: the last open's result. */
function deliver(from: RelayChannel, to: RelayChannel, frame: RelayFrame) {
  let received = null;
  for (const message of call(() => from.seal(frame))) received = call(() => to.open(message));
  return received;
}

const status = { oneTime: 3, oneTimeKem: 2, signedId: 9, maxOneTimeId: 40, maxOneTimeKemId: 41 };

test('the handshake accepts the identity the client claims, with its fingerprint', (t) => {
  const { alice, accepted, relay } = connected();
  t.deepEqual(accepted.identity, alice.publicKey);
  t.is(Buffer.from(accepted.fingerprint).toString('hex'), alice.fingerprint);
  t.true(relay.registered);
});

test('every body crosses the boundary and the channel unchanged, each way it may travel', (t) => {
  const { alice, client, relay } = connected();
  const set = PreKeySet.generate(alice, { oneTimePreKeys: 2 });
  const [upload] = binding.relayPrekeyUploads(set.native, alice.native);
  const requests: RelayBody[] = [
    { type: 'Send', clientMessageId: bytes(16), recipient: bytes(32, 1), device: 0, body: bytes(3000, 9) },
    { type: 'Fetch' },
    { type: 'Ack', messageId: 2 ** 53 },
    { type: 'UploadPrekeys', ...upload },
    { type: 'UploadPrekeys', oneTime: [], oneTimeKem: [] },
    { type: 'GetBundle', identity: bytes(32, 2), device: 4_294_967_295 },
    { type: 'ListDevices', identity: bytes(32, 3) },
  ];
  for (const [i, body] of requests.entries()) {
    const received = deliver(client, relay, { requestId: i + 2, body });
    t.deepEqual(received?.frame, { requestId: i + 2, body }, body.type);
  }
  const answers: RelayBody[] = [
    { type: 'Registered', maxBody: 98_304, maxInFlight: 256, relayTimeMs: 1_700_000_000_123 },
    { type: 'Sent', storedAtMs: 5, copies: 65_535 },
    { type: 'QueueEmpty' },
    { type: 'Acked' },
    { type: 'PrekeysStored', status },
    { type: 'Bundle', device: 3, bundle: set.bundle() },
    { type: 'Devices', devices: [1, 2, 70_000] },
    { type: 'Error', code: binding.RelayErrorCode.RateLimited, retryAfterMs: 1500 },
  ];
  for (const body of answers) t.deepEqual(deliver(relay, client, { requestId: 77, body })?.frame, { requestId: 77, body }, body.type);
  const pushes: RelayBody[] = [
    { type: 'Deliver', messageId: 12, sender: bytes(32, 5), senderDevice: 2, receivedAtMs: 99, body: bytes(0) },
    { type: 'PrekeysLow', status },
    { type: 'Displaced' },
  ];
  for (const body of pushes) t.deepEqual(deliver(relay, client, { requestId: 0, body })?.frame, { requestId: 0, body }, body.type);
});

test('a frame this end may not send is refused before anything is sealed', (t) => {
  const { client, relay } = connected();
  const err = t.throws(() => call(() => client.seal({ requestId: 0, body: { type: 'Displaced' } })), { instanceOf: RelayError });
  t.is(err?.code, 'ERR_RELAY_NOT_ALLOWED');
  t.is(t.throws(() => call(() => relay.seal({ requestId: 3, body: { type: 'Fetch' } })), { instanceOf: RelayError })?.code, 'ERR_RELAY_NOT_ALLOWED');
  // The channel is still usable afterwards.
  t.is(deliver(client, relay, { requestId: 4, body: { type: 'Fetch' } })?.frame?.body.type, 'Fetch');
});

test('byte fields of the wrong length, numbers out of range and unknown types are argument errors', (t) => {
  const { client } = connected();
  const seal = (body: unknown) => () => call(() => client.seal({ requestId: 5, body } as RelayFrame));
  const cases: [string, unknown][] = [
    ['a client message id is 16 bytes', { type: 'Send', clientMessageId: bytes(15), recipient: bytes(32), device: 1, body: bytes(1) }],
    ['a recipient identity is 32 bytes', { type: 'Send', clientMessageId: bytes(16), recipient: bytes(33), device: 1, body: bytes(1) }],
    ['an identity is 32 bytes', { type: 'GetBundle', identity: bytes(31), device: 1 }],
    ['messageId', { type: 'Ack', messageId: 2 ** 53 + 2 }],
    ['messageId', { type: 'Ack', messageId: -1 }],
    ['messageId', { type: 'Ack', messageId: 1.5 }],
    ['messageId', { type: 'Ack', messageId: Number.NaN }],
    ['Unknown variant', { type: 'Teleport' }],
    ['Missing field', { type: 'Register' }],
  ];
  for (const [message, body] of cases) {
    const err = t.throws(seal(body), { instanceOf: InvalidArgumentError }, message);
    t.true(err?.message.includes(message), `${message}: ${err?.message}`);
    t.false(err?.message.includes('7,7,7'), 'no byte value is echoed');
  }
});

test('prekey uploads from a set verify, and a forged one is refused with BAD_SIGNATURE', (t) => {
  const alice = IdentityKey.generate();
  const mallory = IdentityKey.generate();
  const set = PreKeySet.generate(alice, { oneTimePreKeys: 150 });
  const uploads = binding.relayPrekeyUploads(set.native, alice.native);
  t.deepEqual(
    uploads.map((u) => [u.signed !== undefined, u.oneTime.length]),
    [
      [true, 100],
      [false, 50],
    ],
  );
  for (const upload of uploads) t.notThrows(() => call(() => binding.relayVerifyUpload(alice.publicKey, upload)));
  // A second call publishes nothing new.
  t.deepEqual(binding.relayPrekeyUploads(set.native, alice.native)[0]?.oneTime, []);
  const err = t.throws(() => call(() => binding.relayVerifyUpload(mallory.publicKey, uploads[0]!)), { instanceOf: RelayError });
  t.is(err?.code, 'ERR_RELAY_BAD_SIGNATURE');
  const signed = uploads[0]!.signed!;
  const tampered = Uint8Array.from(signed.bytes);
  tampered[tampered.length - 1]! ^= 1;
  const forged = { ...uploads[0]!, signed: { id: signed.id, bytes: tampered } };
  t.is(t.throws(() => call(() => binding.relayVerifyUpload(alice.publicKey, forged)), { instanceOf: RelayError })?.code, 'ERR_RELAY_BAD_SIGNATURE');
  // A section filed under another id than its own is an argument error.
  const misfiled = { ...uploads[0]!, signed: { id: signed.id + 1, bytes: signed.bytes } };
  t.throws(() => call(() => binding.relayVerifyUpload(alice.publicKey, misfiled)), { instanceOf: InvalidArgumentError });
  t.throws(() => call(() => binding.relayVerifyUpload(bytes(31), uploads[0]!)), { instanceOf: InvalidArgumentError });
});

test("the upload checks against a device's status: stale ids, a first upload without a section, no room", (t) => {
  const alice = IdentityKey.generate();
  const [upload] = binding.relayPrekeyUploads(PreKeySet.generate(alice, { oneTimePreKeys: 3 }).native, alice.native);
  const fresh = { oneTime: 0, oneTimeKem: 0, signedId: 0, maxOneTimeId: 0, maxOneTimeKemId: 0 };
  t.notThrows(() => call(() => binding.relayCheckUpload(fresh, upload!)));
  const code = (s: typeof fresh, u = upload!) => (t.throws(() => call(() => binding.relayCheckUpload(s, u)), { instanceOf: RelayError }) as RelayError).code;
  t.is(code({ ...fresh, signedId: upload!.signed!.id + 1 }), 'ERR_RELAY_STALE_KEY_ID');
  t.is(code({ ...fresh, signedId: 1, maxOneTimeId: upload!.oneTime[0]!.id }), 'ERR_RELAY_STALE_KEY_ID');
  t.is(code(fresh, { ...upload!, signed: undefined }), 'ERR_RELAY_NOT_ALLOWED');
  t.is(code({ ...fresh, oneTime: 99 }), 'ERR_RELAY_QUOTA');
  t.throws(() => call(() => binding.relayCheckUpload({ ...fresh, oneTime: 65_536 }, upload!)), { instanceOf: InvalidArgumentError });
});

test('the bundle the relay composes starts a session the owner accepts', (t) => {
  const [alice, bob] = [IdentityKey.generate(), IdentityKey.generate()];
  const set = PreKeySet.generate(bob, { oneTimePreKeys: 2 });
  const [upload] = binding.relayPrekeyUploads(set.native, bob.native);
  const bundle = call(() => binding.relayComposeBundle(bob.publicKey, upload!.signed!, upload!.oneTime[1]));
  const a = Session.fromBundle(alice, bundle, { expectedPeer: bob.publicKey });
  const first = a.encrypt('hello through the relay');
  const accepted = Session.accept(bob, set, first, { expectedPeer: alice.publicKey });
  t.is(new TextDecoder().decode(accepted.plaintext), 'hello through the relay');
  // The last-resort bundle is the set's own, byte for byte.
  t.deepEqual(binding.relayComposeBundle(bob.publicKey, upload!.signed!), set.bundle());
  t.throws(() => call(() => binding.relayComposeBundle(bob.publicKey, { id: 1, bytes: bytes(10) })), { instanceOf: RelayError, code: 'ERR_RELAY_MALFORMED' });
});

test('a client pinning another relay key cannot complete the handshake', (t) => {
  const [relayKey, pinned] = [binding.RelayKey.generate(), binding.RelayKey.generate()];
  const alice = IdentityKey.generate();
  const { message1 } = binding.RelayClientHandshake.start(alice.native, pinned.publicKey);
  t.is(t.throws(() => call(() => relayKey.respond(message1)), { instanceOf: RelayError })?.code, 'ERR_RELAY_HANDSHAKE');
  t.throws(() => call(() => binding.RelayClientHandshake.start(alice.native, bytes(31))), { instanceOf: InvalidArgumentError });
  t.throws(() => call(() => binding.RelayKey.fromBytes(bytes(33))), { instanceOf: InvalidArgumentError });
  const again = binding.RelayKey.fromBytes(relayKey.exportBytes());
  t.deepEqual(again.publicKey, relayKey.publicKey);
});

test('a finished handshake and a disposed channel or key are invalid state', (t) => {
  const key = binding.RelayKey.generate();
  const alice = IdentityKey.generate();
  const { handshake, message1 } = binding.RelayClientHandshake.start(alice.native, key.publicKey);
  const answer = key.respond(message1);
  const channel = handshake.finish(answer.message2);
  t.throws(() => call(() => handshake.finish(answer.message2)), { instanceOf: InvalidStateError });
  channel.dispose();
  t.throws(() => call(() => channel.seal({ requestId: 1, body: { type: 'Fetch' } })), { instanceOf: InvalidStateError });
  key.dispose();
  t.throws(() => call(() => key.publicKey), { instanceOf: InvalidStateError });
});

test('TCP framing: messages split anywhere come out whole; a bad length ends the stream', (t) => {
  const messages = [bytes(1, 1), bytes(65_535, 2), bytes(300, 3)];
  const stream = Buffer.concat(messages.map((m) => binding.relayTcpEncode(m)));
  const decoder = new binding.RelayTcpDecoder();
  const out: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 4093) out.push(...decoder.push(stream.subarray(i, i + 4093)));
  t.deepEqual(out, messages);
  t.is(decoder.buffered, 0);
  t.is(decoder.push(Uint8Array.of(0, 0)).length, 0);
  t.is(decoder.buffered, 2);
  t.is(t.throws(() => call(() => decoder.push(Uint8Array.of(0, 0))), { instanceOf: RelayError })?.code, 'ERR_RELAY_TOO_LARGE');
  t.throws(() => call(() => binding.relayTcpEncode(bytes(65_536))), { instanceOf: RelayError });
});

test('the limits come from crates/relay', (t) => {
  t.is(binding.RELAY_MAX_BODY, 96 * 1024);
  t.is(binding.RELAY_MAX_FRAME, 144 * 1024);
  t.is(binding.RELAY_MAX_IN_FLIGHT, 256);
  t.is(binding.RELAY_DEFAULT_TTL_MS, 30 * 24 * 3600 * 1000);
  t.deepEqual(Object.values(binding.RelayErrorCode).length, 12);
});
