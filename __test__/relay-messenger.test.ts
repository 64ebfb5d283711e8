/**
 * The Messenger (src/relay/messenger.ts) against a real relay on real
 * sockets and SQLite, with real vaults on disk: offline delivery, both ends
 * starting at once, reopening from the vault, idempotent sends, a forged
 * bundle, a replayed delivery that must not be stored twice, and starts on
 * one-time ML-KEM prekeys (the last-resort key once the relay has none; a
 * swapped one refused).
 */
import test, { type ExecutionContext } from 'ava';
import { IdentityKey, InvalidArgumentError, InvalidStateError, PreKeySet, Session, SessionError, type Vault } from '../src/index';
import { Messenger, type MessengerOptions, type ReceivedMessage } from '../src/relay/messenger';
import { type Relay, startRelay, str, type Transport, transports, vaultFor } from './support/relay-harness';

/** Resolves at `m`'s next `connected` event. */
const connected = (m: Messenger) => new Promise<void>((resolve) => m.once('connected', () => resolve()));

/** A messenger on `relay` over `transport`, closed after the test. */
async function messenger(
  t: ExecutionContext,
  relay: Relay,
  transport: Transport,
  vault: Vault,
  extra: Omit<MessengerOptions, 'vault' | 'relay' | 'relayPublicKey'> = {},
) {
  const m = await Messenger.open({ vault, relay: relay.endpoint(transport), relayPublicKey: relay.key.publicKey, ...extra });
  t.teardown(() => m.close());
  // Registered with its prekeys uploaded, so that peers can reach it.
  await connected(m);
  return m;
}

/** Resolves with the next `n` messages `m` commits. */
async function take(m: Messenger, n: number): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  if (n === 0) return out;
  for await (const message of m.messages()) {
    out.push(message);
    if (out.length === n) break;
  }
  return out;
}

const texts = (messages: ReceivedMessage[]) => messages.map((m) => str(m.plaintext));

function both(title: string, fn: (t: ExecutionContext, transport: Transport) => Promise<void>) {
  for (const transport of transports) test(`${title} (${transport})`, (t) => fn(t, transport));
}

both('bob offline: alice sends, bob opens later and reads each message once; the relay holds ciphertext only', async (t, transport) => {
  const relay = await startRelay(t);
  const [aliceVault, bobVault] = [await vaultFor(t), await vaultFor(t)];
  // Bob exists at the relay (registered, prekeys uploaded), then goes away.
  const bobFirst = await messenger(t, relay, transport, await bobVault.open());
  const bob = bobFirst.identity.publicKey;
  await bobFirst.close();

  const alice = await messenger(t, relay, transport, await aliceVault.open());
  for (const text of ['one', 'two', 'three']) await alice.send(bob, text);
  const stored = await relay.store.pending({ identity: Buffer.from(IdentityKey.fingerprint(bob), 'hex'), device: 1 }, { limit: 10, now: Date.now() });
  t.is(stored.length, 3);
  for (const row of stored) t.false(Buffer.from(row.body).includes(Buffer.from('two')), 'the relay never sees a plaintext');

  const bobAgain = await messenger(t, relay, transport, await bobVault.open());
  const got = await take(bobAgain, 3);
  t.deepEqual(texts(got), ['one', 'two', 'three']);
  t.deepEqual(Buffer.from(got[0]!.from), Buffer.from(alice.identity.publicKey));
  t.deepEqual(texts(await bobAgain.history()), ['one', 'two', 'three']);
  // Acked after the commit (the ack follows the message event): soon nothing is left at the relay.
  const left = () => relay.store.pending({ identity: Buffer.from(IdentityKey.fingerprint(bob), 'hex'), device: 1 }, { limit: 10, now: Date.now() });
  for (let i = 0; i < 600 && (await left()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(await left(), []);
});

test('both ends start a session at once and every message arrives, in order per sender', async (t) => {
  const relay = await startRelay(t);
  const a = await messenger(t, relay, 'websocket', await (await vaultFor(t)).open());
  const b = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  const n = 40;
  const aGets = take(a, n);
  const bGets = take(b, n);
  const sends = (from: Messenger, to: Messenger, tag: string) =>
    (async () => {
      for (let i = 0; i < n; i++) await from.send(to.identity.publicKey, `${tag}${i}`);
    })();
  await Promise.all([sends(a, b, 'a'), sends(b, a, 'b')]);
  t.deepEqual(
    texts(await bGets),
    Array.from({ length: n }, (_, i) => `a${i}`),
  );
  t.deepEqual(
    texts(await aGets),
    Array.from({ length: n }, (_, i) => `b${i}`),
  );
});

test('reopening from the vault keeps the identity, the sessions and the history; forget deletes history', async (t) => {
  const relay = await startRelay(t);
  const [av, bv] = [await vaultFor(t), await vaultFor(t)];
  const aVault = await av.open();
  let a = await messenger(t, relay, 'tcp', aVault);
  const b = await messenger(t, relay, 'tcp', await bv.open());
  const bGets = take(b, 2);
  await a.send(b.identity.publicKey, 'before');
  const aliceKey = a.identity.publicKey;
  await a.close();
  aVault.close();
  a = await messenger(t, relay, 'tcp', await av.open());
  t.deepEqual(a.identity.publicKey, aliceKey);
  await a.send(b.identity.publicKey, 'after');
  t.deepEqual(texts(await bGets), ['before', 'after']);
  const replies = take(a, 1);
  await b.send(aliceKey, 'reply');
  t.deepEqual(texts(await replies), ['reply']);
  const [first] = await b.history();
  await b.forget(first!.seq);
  t.deepEqual(texts(await b.history()), ['after']);
  // Another identity or device than the vault's is refused.
  await t.throwsAsync(Messenger.open({ vault: await bv.open(), relay: relay.endpoint('tcp'), relayPublicKey: relay.key.publicKey, device: 2 }), {
    instanceOf: InvalidArgumentError,
  });
});

test('a send with an id is taken once, across reopening', async (t) => {
  const relay = await startRelay(t);
  const av = await vaultFor(t);
  const aVault = await av.open();
  const a = await messenger(t, relay, 'tcp', aVault);
  const b = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  const gets = take(b, 2);
  await a.send(b.identity.publicKey, 'x', { id: 'order-1' });
  await a.send(b.identity.publicKey, 'x again', { id: 'order-1' });
  await a.close();
  aVault.close();
  const a2 = await messenger(t, relay, 'tcp', await av.open());
  await a2.send(b.identity.publicKey, 'x once more', { id: 'order-1' });
  await a2.send(b.identity.publicKey, 'y', { id: 'order-2' });
  t.deepEqual(texts(await gets), ['x', 'y']);
});

test('a bundle the relay forges (another identity signed it) is refused and nothing is sent', async (t) => {
  const relay = await startRelay(t);
  const a = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  const b = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  const mallory = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  // The relay hands out Mallory's prekeys for Bob.
  const claim = relay.store.claimBundle.bind(relay.store);
  relay.store.claimBundle = (_identity, device) => claim(Buffer.from(mallory.identity.fingerprint, 'hex'), device);
  const error = await t.throwsAsync(a.send(b.identity.publicKey, 'for bob only'), { instanceOf: SessionError });
  t.is(error?.code, 'ERR_SESSION_BAD_SIGNATURE');
  t.deepEqual(await relay.store.pending({ identity: Buffer.from(b.identity.fingerprint, 'hex'), device: 1 }, { limit: 10, now: Date.now() }), []);
});

test('a device the peer adds later gets the next send once the device list is older than deviceListTtlMs', async (t) => {
  t.timeout(30_000); // a device not reached would wait for AVA's 5 minutes
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const bob1 = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open(), { identity: bob, device: 1 });
  const aliceVault = await vaultFor(t);
  const alice = await messenger(t, relay, 'tcp', await aliceVault.open(), { deviceListTtlMs: 0 });
  const got1 = take(bob1, 2);
  await alice.send(bob.publicKey, 'one');

  // Bob adds a second device; alice's next send lists his devices again and reaches both.
  const bob2 = await messenger(t, relay, 'websocket', await (await vaultFor(t)).open(), { identity: bob, device: 2 });
  const got2 = take(bob2, 1);
  await alice.send(bob.publicKey, 'two');
  t.deepEqual(texts(await got1), ['one', 'two']);
  t.deepEqual(texts(await got2), ['two']);

  // With the default (a minute), a device added meanwhile waits for the list to age: a send goes to the known ones only.
  await alice.close();
  const later = await messenger(t, relay, 'tcp', await aliceVault.open());
  await later.send(bob.publicKey, 'three'); // lists once after the reopen: devices 1 and 2
  // Device 3 registers and uploads its prekeys, then goes offline, so what is sent to it stays at the relay.
  await (await messenger(t, relay, 'tcp', await (await vaultFor(t)).open(), { identity: bob, device: 3 })).close();
  await later.send(bob.publicKey, 'four');
  const pending3 = await relay.store.pending(
    { identity: Buffer.from(IdentityKey.fingerprint(bob.publicKey), 'hex'), device: 3 },
    { limit: 10, now: Date.now() },
  );
  t.deepEqual(pending3, [], 'device 3 is not listed again within the minute');
});

test('a bundle the relay forges for a device the peer added is refused: the send fails and nothing is sent', async (t) => {
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const bob1 = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open(), { identity: bob, device: 1 });
  const mallory = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  const alice = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open(), { deviceListTtlMs: 0 });
  const got = take(bob1, 1);
  await alice.send(bob.publicKey, 'one');
  t.deepEqual(texts(await got), ['one']);
  await messenger(t, relay, 'tcp', await (await vaultFor(t)).open(), { identity: bob, device: 2 });
  const claim = relay.store.claimBundle.bind(relay.store);
  relay.store.claimBundle = (_identity, device) => claim(Buffer.from(mallory.identity.fingerprint, 'hex'), device === 2 ? 1 : device);
  const error = await t.throwsAsync(alice.send(bob.publicKey, 'two'), { instanceOf: SessionError });
  t.is(error?.code, 'ERR_SESSION_BAD_SIGNATURE');
  const fp = Buffer.from(IdentityKey.fingerprint(bob.publicKey), 'hex');
  t.deepEqual(await relay.store.pending({ identity: fp, device: 2 }, { limit: 10, now: Date.now() }), []);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.deepEqual(texts(await bob1.history()), ['one'], 'nothing for the known device either');
});

test('the signed prekey is replaced once it is signedPreKeyMaxAgeMs old, at a reconnect and while connected; starts made before still work', async (t) => {
  t.timeout(90_000);
  const relay = await startRelay(t);
  const bobVault = await vaultFor(t);
  const age = 4000;
  const open = async (signedPreKeyMaxAgeMs?: number) => {
    const m = await Messenger.open({ vault: await bobVault.open(), relay: relay.endpoint('tcp'), relayPublicKey: relay.key.publicKey, signedPreKeyMaxAgeMs });
    t.teardown(() => m.close());
    await connected(m);
    return m;
  };
  let bob = await open(age);
  const bobFp = Buffer.from(bob.identity.fingerprint, 'hex');
  const signedId = async () => (await relay.store.prekeyCounts(bobFp, 1)).signedId;
  t.is(await signedId(), 1);
  await bob.close();

  // Alice starts from signed prekey 1 while bob is away; bob comes back after it aged.
  const alice = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  await alice.send(bob.identity.publicKey, 'before the rotation');
  await new Promise((resolve) => setTimeout(resolve, age + 100));
  bob = await open(age);
  const reconnected = await signedId();
  t.true(reconnected >= 2, 'replaced and uploaded at the reconnect');
  for (let i = 0; i < 600 && (await bob.history()).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(texts(await bob.history()), ['before the rotation'], 'a start on the replaced prekey is still accepted');

  // Connected the whole time: the timer replaces it again.
  for (let i = 0; i < 600 && (await signedId()) <= reconnected; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.true((await signedId()) > reconnected, 'replaced while connected');
  const carol = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  const got = take(bob, 1);
  await carol.send(bob.identity.publicKey, 'after the rotation');
  t.deepEqual(texts(await got), ['after the rotation']);

  // The age is kept in the vault: reopened with the default (two days), nothing is replaced.
  await bob.close();
  const before = await signedId();
  bob = await open();
  t.is(await signedId(), before);
});

test('a device of the peer registered without prekeys is left out: sends reach the others; a peer with no device with prekeys is UNKNOWN_RECIPIENT', async (t) => {
  const relay = await startRelay(t);
  const bob = IdentityKey.generate();
  const bob1 = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open(), { identity: bob, device: 1 });
  const alice = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open(), { deviceListTtlMs: 0 });
  // Device 2 registers with a bare connection and never uploads prekeys.
  await relay.connect('tcp', bob, 2);
  const got = take(bob1, 2);
  await alice.send(bob.publicKey, 'one'); // first send: device 2 left out
  await alice.send(bob.publicKey, 'two'); // re-list: device 2 left out again
  t.deepEqual(texts(await got), ['one', 'two']);
  // Carol has one device, without prekeys.
  const carol = IdentityKey.generate();
  await relay.connect('tcp', carol, 1);
  const error = await t.throwsAsync(alice.send(carol.publicKey, 'hello'));
  t.is((error as { code?: string }).code, 'ERR_RELAY_UNKNOWN_RECIPIENT');
});

test('a delivery that comes again is acked and dropped: the history holds it once', async (t) => {
  const relay = await startRelay(t);
  const a = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  const bv = await vaultFor(t);
  const bVault = await bv.open();
  const b = await messenger(t, relay, 'tcp', bVault);
  // The relay "forgets" acks: every message stays and comes again on the next connection.
  relay.store.ack = async () => 0;
  const first = take(b, 2);
  await a.send(b.identity.publicKey, 'm1');
  await a.send(b.identity.publicKey, 'm2');
  t.deepEqual(texts(await first), ['m1', 'm2']);
  await b.close();
  bVault.close();
  const b2 = await Messenger.open({ vault: await bv.open(), relay: relay.endpoint('tcp'), relayPublicKey: relay.key.publicKey });
  t.teardown(() => b2.close());
  const warnings: Error[] = [];
  b2.on('warning', (e) => warnings.push(e));
  const later = take(b2, 1);
  await connected(b2);
  await a.send(b.identity.publicKey, 'm3');
  t.deepEqual(texts(await later), ['m3']);
  t.deepEqual(texts(await b2.history()), ['m1', 'm2', 'm3']);
  t.deepEqual(warnings, [], 'a duplicate is not a warning');
});

test('bad options and calls after close are typed errors', async (t) => {
  const relay = await startRelay(t);
  const vault = await (await vaultFor(t)).open();
  const base = { vault, relay: relay.endpoint('tcp'), relayPublicKey: relay.key.publicKey };
  for (const bad of [
    null,
    { ...base, vault: {} },
    { ...base, oneTimePreKeys: 0 },
    { ...base, oneTimePreKeys: 101 },
    { ...base, device: 0 },
    { ...base, reconnect: { minDelayMs: 10, maxDelayMs: 5 } },
    { ...base, deviceListTtlMs: -1 },
    { ...base, deviceListTtlMs: 1.5 },
    { ...base, signedPreKeyMaxAgeMs: 0 },
    { ...base, signedPreKeyMaxAgeMs: '1' },
    // The endpoint is checked at open, not retried at every reconnect.
    { ...base, relay: undefined },
    { ...base, relayUrl: 'ws://127.0.0.1:1/relay' },
    { ...base, relay: { url: 'http://127.0.0.1:1/relay' } },
    { ...base, relay: { tcp: { host: '127.0.0.1', port: 0 } } },
    { ...base, relay: { url: 'ws://127.0.0.1:1/relay', ca: 'pem' } },
    { ...base, relay: undefined, relayUrl: 'tcp://127.0.0.1:1' },
    { ...base, relay: undefined, relayUrl: 'ws://' },
    { ...base, relay: undefined, relayUrl: 'wss://relay.example/#x' },
    { ...base, relay: undefined, relayUrl: 42 },
  ]) {
    await t.throwsAsync(Messenger.open(bad as never), { instanceOf: InvalidArgumentError });
  }
  const m = await Messenger.open(base);
  await t.throwsAsync(m.send(new Uint8Array(31), 'x'), { instanceOf: InvalidArgumentError });
  await t.throwsAsync(m.send(IdentityKey.generate().publicKey, 'x', { id: '' }), { instanceOf: InvalidArgumentError });
  await t.throwsAsync(m.history({ after: -1 }), { instanceOf: InvalidArgumentError });
  await m.close();
  await t.throwsAsync(m.send(IdentityKey.generate().publicKey, 'x'), { instanceOf: InvalidStateError });
  await t.throwsAsync(m.history(), { instanceOf: InvalidStateError });
  const iterator = m.messages();
  t.deepEqual(await iterator.next(), { done: true, value: undefined });
});

test('relayUrl is short for relay: { url }', async (t) => {
  const relay = await startRelay(t);
  const { url } = relay.endpoint('websocket') as { url: string };
  const a = await Messenger.open({ vault: await (await vaultFor(t)).open(), relayUrl: url, relayPublicKey: relay.key.publicKey });
  t.teardown(() => a.close());
  const aUp = connected(a);
  const b = await Messenger.open({ vault: await (await vaultFor(t)).open(), relay: { url }, relayPublicKey: relay.key.publicKey });
  t.teardown(() => b.close());
  const bUp = connected(b);
  await Promise.all([aUp, bUp]);
  const got = take(b, 1);
  await a.send(b.identity.publicKey, 'by relayUrl');
  t.deepEqual(texts(await got), ['by relayUrl']);
});

/** The prekey set a closed messenger's vault holds (opened and closed again). */
async function preKeysIn(v: Awaited<ReturnType<typeof vaultFor>>): Promise<PreKeySet> {
  const vault = await v.open();
  try {
    const space = vault.namespace('keyward.messenger');
    return PreKeySet.deserialize(space.get('prekeys') as Uint8Array, space.get('storage-key') as Uint8Array);
  } finally {
    vault.close();
  }
}

/**
 * The ML-KEM part of a start message as the relay stores it: `version, kind,
 * sender (32), base (32), signed id (4)`, the one-time X25519 flag (and id),
 * then 1 = last-resort key or 2 = one-time key, and the key's id.
 */
function startKem(body: Uint8Array): { oneTimeX25519: boolean; which: number; id: number } {
  const b = Buffer.from(body);
  if (b[0] !== 1 || b[1] !== 2) throw new Error('not a start message');
  const at = b[70] === 1 ? 75 : 71;
  return { oneTimeX25519: b[70] === 1, which: b[at], id: b.readUInt32BE(at + 1) };
}

test('a first message to a fresh peer uses one of its one-time ML-KEM keys, which the peer then no longer holds', async (t) => {
  const relay = await startRelay(t);
  const bv = await vaultFor(t);
  const bVault = await bv.open();
  // Bob's identity, kept here too: a messenger disposes its own copy when it closes.
  const bobId = IdentityKey.generate();
  const bobFirst = await messenger(t, relay, 'tcp', bVault, { identity: IdentityKey.fromSeed(bobId.exportSeed()) });
  const bob = bobId.publicKey;
  const bobFp = Buffer.from(IdentityKey.fingerprint(bob), 'hex');
  await bobFirst.close();
  bVault.close();
  const before = await relay.store.prekeyCounts(bobFp, 1);
  t.like(before, { oneTime: 100, oneTimeKem: 100 }, 'the messenger uploaded 100 of each kind');
  t.is((await preKeysIn(bv)).oneTimeKemPreKeyCount, 100);

  // What the relay hands Alice's messenger (to try it again on Bob's set afterwards).
  const claimed: { id: number; key: Uint8Array }[] = [];
  const claim = relay.store.claimBundle.bind(relay.store);
  relay.store.claimBundle = async (identity, device) => {
    const bundle = await claim(identity, device);
    if (bundle.oneTimeKem) claimed.push(bundle.oneTimeKem);
    return bundle;
  };
  const alice = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  await alice.send(bob, 'post-quantum once');
  t.like(await relay.store.prekeyCounts(bobFp, 1), { oneTime: 99, oneTimeKem: 99 }, 'one of each kind claimed');
  t.is(claimed.length, 1);
  const [stored] = await relay.store.pending({ identity: bobFp, device: 1 }, { limit: 10, now: Date.now() });
  t.deepEqual(startKem(stored!.body), { oneTimeX25519: true, which: 2, id: claimed[0]!.id }, 'encapsulated to the claimed one-time key');

  const bobAgain = await messenger(t, relay, 'tcp', await bv.open());
  t.deepEqual(texts(await take(bobAgain, 1)), ['post-quantum once']);
  await bobAgain.close();
  const set = await preKeysIn(bv);
  t.is(set.oneTimeKemPreKeyCount, 99, 'accepting the start consumed it');
  t.is(set.oneTimePreKeyCount, 99);
  // Another start on the same claimed key is refused by Bob's committed set.
  const replay = Session.fromBundle(IdentityKey.generate(), set.bundle(), { expectedPeer: bob, oneTimeKem: claimed[0]! }).encrypt('again');
  const error = t.throws(() => Session.accept(bobId, set, replay), { instanceOf: SessionError });
  t.is(error?.code, 'ERR_SESSION_PREKEY_REUSED');
});

test('a relay with no one-time ML-KEM key left: the start uses the last-resort key, and the peer refills both kinds', async (t) => {
  const relay = await startRelay(t);
  const bv = await vaultFor(t);
  const bVault = await bv.open();
  const bobFirst = await Messenger.open({ vault: bVault, relay: relay.endpoint('tcp'), relayPublicKey: relay.key.publicKey, oneTimePreKeys: 1 });
  t.teardown(() => bobFirst.close());
  await connected(bobFirst);
  const bob = bobFirst.identity.publicKey;
  const bobFp = Buffer.from(IdentityKey.fingerprint(bob), 'hex');
  await bobFirst.close();
  bVault.close();
  // Someone else drains Bob's one-time keys while he is away (so he cannot refill them).
  const drainer = await relay.connect('tcp');
  t.truthy((await drainer.request({ type: 'GetBundle', identity: bob, device: 1 })).oneTimeKem);
  t.like(await relay.store.prekeyCounts(bobFp, 1), { oneTime: 0, oneTimeKem: 0 });

  const alice = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  await alice.send(bob, 'last resort');
  const [stored] = await relay.store.pending({ identity: bobFp, device: 1 }, { limit: 10, now: Date.now() });
  t.deepEqual(startKem(stored!.body), { oneTimeX25519: false, which: 1, id: 1 }, 'the signed section’s ML-KEM key (id 1)');

  const bobAgain = await Messenger.open({ vault: await bv.open(), relay: relay.endpoint('tcp'), relayPublicKey: relay.key.publicKey, oneTimePreKeys: 1 });
  t.teardown(() => bobAgain.close());
  t.deepEqual(texts(await take(bobAgain, 1)), ['last resort']);
  // PREKEYS_LOW after REGISTER (the relay holds none): one of each kind is uploaded again.
  for (let i = 0; i < 1200 && (await relay.store.prekeyCounts(bobFp, 1)).oneTimeKem === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  t.like(await relay.store.prekeyCounts(bobFp, 1), { oneTime: 1, oneTimeKem: 1, maxOneTimeKemId: 2 });
  const refilled = await drainer.request({ type: 'GetBundle', identity: bob, device: 1 });
  t.is(refilled.oneTimeKem?.id, 2, 'a new one-time ML-KEM key, not the drained one again');
});

test('a one-time ML-KEM key the relay swaps (not signed by the peer) fails the send and nothing is sent', async (t) => {
  const relay = await startRelay(t);
  const a = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  const b = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  const mallory = await messenger(t, relay, 'tcp', await (await vaultFor(t)).open());
  // Bob's bundle as stored, but beside it one of Mallory's one-time ML-KEM keys (validly signed, by Mallory).
  const malloryFp = Buffer.from(mallory.identity.fingerprint, 'hex');
  const claim = relay.store.claimBundle.bind(relay.store);
  relay.store.claimBundle = async (identity, device) => {
    const bundle = await claim(identity, device);
    const theirs = await claim(malloryFp, 1);
    return { ...bundle, oneTimeKem: theirs.oneTimeKem };
  };
  const error = await t.throwsAsync(a.send(b.identity.publicKey, 'for bob only'), { instanceOf: SessionError });
  t.is(error?.code, 'ERR_SESSION_BAD_SIGNATURE');
  t.deepEqual(await relay.store.pending({ identity: Buffer.from(b.identity.fingerprint, 'hex'), device: 1 }, { limit: 10, now: Date.now() }), []);
});
