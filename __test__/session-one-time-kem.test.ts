/**
 * One-time ML-KEM-768 prekeys through the TypeScript API: a set grows them
 * (`addOneTimeKemPreKeys`), an upload publishes them signed
 * (`relayPrekeyUploads`, what the Messenger sends a relay), a start given one
 * (`Session.fromBundle(…, { oneTimeKem })`) encapsulates to it, and
 * `Session.accept` consumes it once. Failure paths: wrong length, another
 * signer, a changed id, an id the set never issued, reuse, bad arguments.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { IdentityKey, InvalidArgumentError, PreKeySet, Session, SessionError, StateError } from '../src/index';
import { binding, call } from '../src/native';

const storageKey = randomBytes(32);
const text = (b: Uint8Array) => Buffer.from(b).toString();

/** The one-time ML-KEM keys an upload of `set` publishes (as a relay stores and hands them out). */
function publish(set: PreKeySet, identity: IdentityKey) {
  return call(() => binding.relayPrekeyUploads(set.native, identity.native)).flatMap((u) => u.oneTimeKem);
}

/**
 * The ML-KEM part of a prekey message without a one-time X25519 key: the
 * byte after `version, kind, sender (32), base (32), signed id (4), flag`
 * (1 = last resort, 2 = one-time) and the id after it.
 */
function kemOf(message: Uint8Array): { which: number; id: number } {
  const b = Buffer.from(message);
  if (b[70] !== 0) throw new Error('this helper reads starts without a one-time X25519 key');
  return { which: b[71], id: b.readUInt32BE(72) };
}

const code = (t: import('ava').ExecutionContext, fn: () => unknown, c: string) =>
  t.is((t.throws(fn, { instanceOf: SessionError }) as SessionError).code, c as SessionError['code']);

test('one-time ML-KEM prekeys: added, published once, used by a start, consumed by accept, refused when reused', (t) => {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const set = PreKeySet.generate(bob, { oneTimePreKeys: 0, kem: true });
  t.is(set.oneTimeKemPreKeyCount, 0);
  set.addOneTimeKemPreKeys(3);
  t.is(set.oneTimeKemPreKeyCount, 3);
  t.is(set.unpublishedKemCount, 3);
  const keys = publish(set, bob);
  t.deepEqual(
    keys.map((k) => k.id),
    [1, 2, 3],
  );
  t.true(keys.every((k) => k.key.length === binding.ONE_TIME_KEM_PRE_KEY_LEN - 4));
  t.is(set.unpublishedKemCount, 0, 'an upload publishes each once');
  t.deepEqual(publish(set, bob), [], 'and never again');

  const a = Session.fromBundle(alice, set.bundle(), { expectedPeer: bob.publicKey, oneTimeKem: keys[1] });
  const first = a.encrypt('hello bob');
  t.deepEqual(kemOf(first), { which: 2, id: 2 }, 'the start encapsulates to one-time key 2');
  const { session: b, plaintext } = Session.accept(bob, set, first);
  t.is(text(plaintext), 'hello bob');
  t.is(set.oneTimeKemPreKeyCount, 2, 'accept consumed it');
  t.is(text(a.decrypt(b.encrypt('hello alice'))), 'hello alice');

  // The same message again, and a new start with the same claimed key: both refused, nothing consumed.
  code(t, () => Session.accept(bob, set, first), 'ERR_SESSION_PREKEY_REUSED');
  const again = Session.fromBundle(alice, set.bundle(), { expectedPeer: bob.publicKey, oneTimeKem: keys[1] }).encrypt('again');
  code(t, () => Session.accept(bob, set, again), 'ERR_SESSION_PREKEY_REUSED');
  t.is(set.oneTimeKemPreKeyCount, 2);

  // Consumed state persists: a restored set refuses it too, and still holds the other two.
  const restored = PreKeySet.deserialize(set.serialize(storageKey), storageKey);
  t.is(restored.oneTimeKemPreKeyCount, 2);
  t.is(restored.unpublishedKemCount, 0);
  code(t, () => Session.accept(bob, restored, again), 'ERR_SESSION_PREKEY_REUSED');
  const third = Session.fromBundle(alice, restored.bundle(), { expectedPeer: bob.fingerprint, oneTimeKem: keys[2] }).encrypt('third');
  t.is(text(Session.accept(bob, restored, third).plaintext), 'third');
  t.is(restored.oneTimeKemPreKeyCount, 1);

  // Without one, the start uses the last-resort key (its id is the signed section's, 1).
  const plain = Session.fromBundle(alice, set.bundle(), { expectedPeer: bob.publicKey }).encrypt('last resort');
  t.deepEqual(kemOf(plain), { which: 1, id: 1 });
  t.is(text(Session.accept(bob, set, plain).plaintext), 'last resort');
  t.is(set.oneTimeKemPreKeyCount, 2, 'a last-resort start consumes no one-time key');
});

test('a one-time ML-KEM prekey of the wrong length, another signer or a changed id is refused before anything starts', (t) => {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const set = PreKeySet.generate(bob, { oneTimePreKeys: 0, kem: true });
  set.addOneTimeKemPreKeys(1);
  const [key] = publish(set, bob);
  const bundle = set.bundle();
  const start = (oneTimeKem: { id: number; key: Uint8Array }) => () => Session.fromBundle(alice, bundle, { expectedPeer: bob.publicKey, oneTimeKem });
  code(t, start({ id: key.id, key: key.key.subarray(1) }), 'ERR_SESSION_FORMAT');
  code(t, start({ id: key.id, key: new Uint8Array([...key.key, 0]) }), 'ERR_SESSION_FORMAT');
  code(t, start({ id: key.id + 1, key: key.key }), 'ERR_SESSION_BAD_SIGNATURE');
  const flipped = Uint8Array.from(key.key);
  flipped[10] ^= 1;
  code(t, start({ id: key.id, key: flipped }), 'ERR_SESSION_BAD_SIGNATURE');
  // Mallory's own one-time key, validly signed by Mallory, beside Bob's bundle.
  const mallory = IdentityKey.generate();
  const theirs = PreKeySet.generate(mallory, { oneTimePreKeys: 0, kem: true });
  theirs.addOneTimeKemPreKeys(1);
  code(t, start(publish(theirs, mallory)[0]), 'ERR_SESSION_BAD_SIGNATURE');
  // The expected peer is checked first: Mallory's bundle with Mallory's key is not Bob's.
  code(t, () => Session.fromBundle(alice, theirs.bundle(), { expectedPeer: bob.publicKey, oneTimeKem: key }), 'ERR_SESSION_UNEXPECTED_PEER');
  // Arguments that are not { id, key }.
  for (const bad of [{ id: -1, key: key.key }, { id: 2 ** 32, key: key.key }, { id: 1.5, key: key.key }, { id: 1, key: 'bytes' }, { key: key.key }, 'key']) {
    t.throws(() => Session.fromBundle(alice, bundle, { expectedPeer: bob.publicKey, oneTimeKem: bad as never }), { instanceOf: InvalidArgumentError });
  }
  t.is(set.oneTimeKemPreKeyCount, 1);
});

test('accept refuses a start to a one-time ML-KEM id the set never issued, and consumes nothing', (t) => {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  // Two sets of Bob's: the start uses set one's one-time ML-KEM key 1; set two never issued one.
  const one = PreKeySet.generate(bob, { oneTimePreKeys: 0, kem: true });
  one.addOneTimeKemPreKeys(1);
  const [key] = publish(one, bob);
  const two = PreKeySet.generate(bob, { oneTimePreKeys: 0, kem: true });
  const first = Session.fromBundle(alice, one.bundle(), { expectedPeer: bob.publicKey, oneTimeKem: key }).encrypt('hi');
  code(t, () => Session.accept(bob, two, first), 'ERR_SESSION_UNKNOWN_PREKEY');
  two.addOneTimeKemPreKeys(1);
  // Now id 1 exists in set two, but it is another key: the message does not decrypt, and nothing is consumed.
  t.throws(() => Session.accept(bob, two, first));
  t.is(two.oneTimeKemPreKeyCount, 1);
  t.is(text(Session.accept(bob, one, first).plaintext), 'hi');
});

test('addOneTimeKemPreKeys checks its count and the set’s room', (t) => {
  const bob = IdentityKey.generate();
  const set = PreKeySet.generate(bob, { oneTimePreKeys: 0 });
  for (const bad of [-1, 1.5, Number.NaN, binding.MAX_ONE_TIME_KEM_PRE_KEYS + 1, '3']) {
    t.throws(() => set.addOneTimeKemPreKeys(bad as number), { instanceOf: InvalidArgumentError });
  }
  set.addOneTimeKemPreKeys(binding.MAX_ONE_TIME_KEM_PRE_KEYS - 1);
  t.throws(() => set.addOneTimeKemPreKeys(2), { instanceOf: InvalidArgumentError, message: /at most 10000/ });
  set.addOneTimeKemPreKeys(1);
  t.is(set.oneTimeKemPreKeyCount, binding.MAX_ONE_TIME_KEM_PRE_KEYS);
  set.dispose();
  t.throws(() => set.addOneTimeKemPreKeys(1), { instanceOf: StateError });
  t.throws(() => set.oneTimeKemPreKeyCount, { instanceOf: StateError });
});

test('makeRoom: a full set drops its oldest published keys, as few as needed, never unpublished ones; a start on a dropped key is refused', (t) => {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const max = binding.MAX_ONE_TIME_KEM_PRE_KEYS;
  const set = PreKeySet.generate(bob, { oneTimePreKeys: 0, kem: true });
  set.addOneTimeKemPreKeys(10);
  const keys = publish(set, bob); // ids 1–10, handed out and never used
  const late = Session.fromBundle(alice, set.bundle(), { expectedPeer: bob.publicKey, oneTimeKem: keys[0] }).encrypt('late');
  set.addOneTimeKemPreKeys(max - 10);
  t.deepEqual(set.makeRoom({}), { oneTime: 0, oneTimeKem: 0 });
  t.throws(() => set.addOneTimeKemPreKeys(1), { instanceOf: InvalidArgumentError });
  t.deepEqual(set.makeRoom({ oneTimeKem: 3 }), { oneTime: 0, oneTimeKem: 3 });
  t.is(set.oneTimeKemPreKeyCount, max - 3);
  set.addOneTimeKemPreKeys(3);
  code(t, () => Session.accept(bob, set, late), 'ERR_SESSION_PREKEY_REUSED');
  // Seven published keys are left (4–10): room for 100 drops those only.
  t.deepEqual(set.makeRoom({ oneTime: 5, oneTimeKem: 100 }), { oneTime: 0, oneTimeKem: 7 });
  t.is(set.unpublishedKemCount, set.oneTimeKemPreKeyCount, 'only unpublished keys are left');
  for (const bad of [null, 1, { oneTime: -1 }, { oneTimeKem: max + 1 }, { oneTime: 1.5 }, { oneTime: '1' }]) {
    t.throws(() => set.makeRoom(bad as never), { instanceOf: InvalidArgumentError });
  }
  set.dispose();
  t.throws(() => set.makeRoom({}), { instanceOf: StateError });
});
