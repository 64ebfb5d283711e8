/**
 * The Messenger (src/relay/messenger.ts) against a real relay on real
 * sockets and SQLite, with real vaults on disk: offline delivery, both ends
 * starting at once, reopening from the vault, idempotent sends, a forged
 * bundle, and a replayed delivery that must not be stored twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { IdentityKey, InvalidArgumentError, InvalidStateError, SecretKey, SessionError, Vault } from '../src/index';
import { Messenger, type ReceivedMessage } from '../src/relay/messenger';
import { type Relay, startRelay, str, type Transport, transports } from './support/relay-harness';

/** A vault in a fresh directory, with its key, removed after the test. */
async function vaultFor(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-messenger-'));
  const key = SecretKey.generate();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, key, open: () => Vault.open(dir, key) };
}

/** Resolves at `m`'s next `connected` event. */
const connected = (m: Messenger) => new Promise<void>((resolve) => m.once('connected', () => resolve()));

/** A messenger on `relay` over `transport`, closed after the test. */
async function messenger(t: ExecutionContext, relay: Relay, transport: Transport, vault: Vault, extra: { identity?: IdentityKey; device?: number } = {}) {
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
  t.deepEqual(texts(bobAgain.history()), ['one', 'two', 'three']);
  // Acked after the commit (the ack follows the message event): soon nothing is left at the relay.
  const left = () => relay.store.pending({ identity: Buffer.from(IdentityKey.fingerprint(bob), 'hex'), device: 1 }, { limit: 10, now: Date.now() });
  for (let i = 0; i < 100 && (await left()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
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
  const [first] = b.history();
  await b.forget(first!.seq);
  t.deepEqual(texts(b.history()), ['after']);
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
  t.deepEqual(texts(b2.history()), ['m1', 'm2', 'm3']);
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
  ]) {
    await t.throwsAsync(Messenger.open(bad as never), { instanceOf: InvalidArgumentError });
  }
  const m = await Messenger.open(base);
  await t.throwsAsync(m.send(new Uint8Array(31), 'x'), { instanceOf: InvalidArgumentError });
  await t.throwsAsync(m.send(IdentityKey.generate().publicKey, 'x', { id: '' }), { instanceOf: InvalidArgumentError });
  t.throws(() => m.history({ after: -1 }), { instanceOf: InvalidArgumentError });
  await m.close();
  await t.throwsAsync(m.send(IdentityKey.generate().publicKey, 'x'), { instanceOf: InvalidStateError });
  t.throws(() => m.history(), { instanceOf: InvalidStateError });
  const iterator = m.messages();
  t.deepEqual(await iterator.next(), { done: true, value: undefined });
});
