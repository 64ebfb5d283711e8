import { randomBytes } from 'node:crypto';
import test from 'ava';
import { constantTimeEqual, DecryptionError, IdentityKey, InvalidArgumentError, PreKeySet, Session, SessionError, StateError, secureWipe } from '../src/index';

const storageKey = randomBytes(32);
const text = (b: Uint8Array) => Buffer.from(b).toString();

function online() {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const { session: a, message } = Session.initiate(alice, bob.publicKey, { prologue: 'chat v1', payload: 'hi bob' });
  const r = Session.respond(bob, message, { prologue: 'chat v1', payload: 'hi alice' });
  const payload = a.complete(r.reply);
  return { alice, bob, a, b: r.session, r, payload };
}

test('identity keys: sign, verify, seed, records, dispose', (t) => {
  const seed = randomBytes(32);
  const id = IdentityKey.fromSeed(seed);
  t.deepEqual(Buffer.from(IdentityKey.fromSeed(seed).publicKey), Buffer.from(id.publicKey));
  t.is(id.publicKey.length, 32);
  t.is(id.x25519PublicKey.length, 32);
  const sig = id.sign('message');
  t.true(IdentityKey.verify(id.publicKey, 'message', sig));
  t.false(IdentityKey.verify(id.publicKey, 'messagE', sig));
  t.false(IdentityKey.verify(id.publicKey.subarray(1), 'message', sig));
  t.deepEqual(Buffer.from(id.exportSeed()), seed);
  const restored = IdentityKey.deserialize(id.serialize(storageKey), storageKey);
  t.deepEqual(Buffer.from(restored.publicKey), Buffer.from(id.publicKey));
  t.throws(() => IdentityKey.deserialize(id.serialize(storageKey), randomBytes(32)), { instanceOf: DecryptionError });
  t.throws(() => IdentityKey.fromSeed(randomBytes(31)), { instanceOf: InvalidArgumentError });
  id.dispose();
  t.throws(() => id.sign('x'), { instanceOf: StateError });
});

test('Noise_IK start: payloads, identities, both sides send at once', (t) => {
  const { alice, bob, a, b, r, payload } = online();
  t.is(text(r.payload), 'hi bob');
  t.is(text(payload), 'hi alice');
  t.deepEqual(Buffer.from(r.peerPublicKey), Buffer.from(alice.publicKey));
  t.deepEqual(Buffer.from(a.peerPublicKey), Buffer.from(bob.publicKey));
  const fromB = b.encrypt('first from bob');
  const fromA = a.encrypt('first from alice', 'header');
  t.is(text(a.decrypt(fromB)), 'first from bob');
  t.is(text(b.decrypt(fromA, 'header')), 'first from alice');
});

test('Noise_IK failures are typed', (t) => {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const mallory = IdentityKey.generate();
  const { message } = Session.initiate(alice, bob.publicKey, { prologue: 'v1' });
  const code = (fn: () => unknown, c: string) => t.is((t.throws(fn, { instanceOf: SessionError }) as SessionError).code, c as SessionError['code']);
  code(() => Session.respond(bob, message, { prologue: 'v2' }), 'ERR_SESSION_HANDSHAKE');
  const tampered = Uint8Array.from(message);
  tampered[50] ^= 1;
  code(() => Session.respond(bob, tampered, { prologue: 'v1' }), 'ERR_SESSION_HANDSHAKE');
  code(() => Session.respond(mallory, message, { prologue: 'v1' }), 'ERR_SESSION_HANDSHAKE');
  code(() => Session.respond(bob, message, { prologue: 'v1', expectedPeer: mallory.publicKey }), 'ERR_SESSION_UNEXPECTED_PEER');
  t.throws(() => Session.initiate(alice, new Uint8Array(31)), { instanceOf: InvalidArgumentError });
  t.throws(() => Session.respond(bob, 'text' as unknown as Uint8Array), { instanceOf: InvalidArgumentError });
  // Not complete yet, then completed once only.
  const started = Session.initiate(alice, bob.publicKey);
  t.throws(() => started.session.encrypt('early'), { instanceOf: StateError });
  const { reply } = Session.respond(bob, started.message);
  started.session.complete(reply);
  t.throws(() => started.session.complete(reply), { instanceOf: StateError });
});

test('offline start from a bundle, with and without ML-KEM; one-time prekeys are used once', (t) => {
  for (const kem of [false, true]) {
    const alice = IdentityKey.generate();
    const bob = IdentityKey.generate();
    const prekeys = PreKeySet.generate(bob, { oneTimePreKeys: 2, kem });
    const bundle = prekeys.bundle();
    t.is(prekeys.unpublishedCount, 1);
    const a = Session.fromBundle(alice, bundle, { expectedPeer: bob.publicKey });
    const first = a.encrypt('hello bob', 'ad');
    const { session: b, plaintext } = Session.accept(bob, prekeys, first, { ad: 'ad' });
    t.is(text(plaintext), 'hello bob');
    t.is(prekeys.oneTimePreKeyCount, 1);
    const err = t.throws(() => Session.accept(bob, prekeys, first, { ad: 'ad' }), { instanceOf: SessionError });
    t.is(err?.code, 'ERR_SESSION_PREKEY_REUSED');
    t.is(text(a.decrypt(b.encrypt('hello alice'))), 'hello alice');
    // A bundle whose signature does not verify.
    const forged = Uint8Array.from(prekeys.bundle());
    forged[40] ^= 1;
    t.is(t.throws(() => Session.fromBundle(alice, forged, { expectedPeer: bob.fingerprint }), { instanceOf: SessionError })?.code, 'ERR_SESSION_BAD_SIGNATURE');
  }
});

test('prekey sets generate and grow off the event loop', async (t) => {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const set = await PreKeySet.generateAsync(bob, { oneTimePreKeys: 500, kem: true });
  t.is(set.oneTimePreKeyCount, 500);
  await set.addOneTimePreKeysAsync(250);
  t.is(set.oneTimePreKeyCount, 750);
  const first = Session.fromBundle(alice, set.bundle(), { expectedPeer: bob.publicKey }).encrypt('hi');
  t.is(text(Session.accept(bob, set, first).plaintext), 'hi');
  t.is(set.oneTimePreKeyCount, 749);
  await t.throwsAsync(set.addOneTimePreKeysAsync(100_000), { instanceOf: InvalidArgumentError });
  await t.throwsAsync(PreKeySet.generateAsync(bob, { oneTimePreKeys: -1 }), { instanceOf: InvalidArgumentError });
  set.dispose();
  await t.throwsAsync(set.addOneTimePreKeysAsync(1), { instanceOf: StateError });
});

test('large messages encrypt and decrypt off the event loop', async (t) => {
  const { a, b } = online();
  const big = randomBytes(4 * 1024 * 1024);
  const sealed = await a.encryptAsync(big, 'file');
  t.deepEqual(Buffer.from(await b.decryptAsync(sealed, 'file')), big);
  await t.throwsAsync(b.decryptAsync(sealed, 'file'), { instanceOf: SessionError, code: 'ERR_SESSION_DUPLICATE' });
  const tampered = Uint8Array.from(await a.encryptAsync('x'));
  tampered[tampered.length - 1] ^= 1;
  await t.throwsAsync(b.decryptAsync(tampered), { instanceOf: DecryptionError });
  // The sync and async calls share one state: messages from both decrypt in turn.
  const m1 = a.encrypt('sync');
  const m2 = await a.encryptAsync('async');
  t.is(text(await b.decryptAsync(m1)), 'sync');
  t.is(text(b.decrypt(m2)), 'async');
  // Disposing while a call runs lets the call finish, then wipes.
  const pending = a.encryptAsync(randomBytes(1024 * 1024));
  a.dispose();
  t.true((await pending).length > 1024 * 1024);
  await t.throwsAsync(a.encryptAsync('x'), { instanceOf: StateError });
});

test('out of order, duplicates, tampering and the session stays usable', (t) => {
  const { a, b } = online();
  const messages = Array.from({ length: 5 }, (_, i) => a.encrypt(`m${i}`));
  t.is(text(b.decrypt(messages[3])), 'm3');
  t.is(text(b.decrypt(messages[0])), 'm0');
  t.is(t.throws(() => b.decrypt(messages[3]), { instanceOf: SessionError })?.code, 'ERR_SESSION_DUPLICATE');
  const tampered = Uint8Array.from(messages[4]);
  tampered[tampered.length - 1] ^= 1;
  t.throws(() => b.decrypt(tampered), { instanceOf: DecryptionError });
  t.throws(() => b.decrypt(messages[4], 'wrong ad'), { instanceOf: DecryptionError });
  t.is(text(b.decrypt(messages[4])), 'm4');
  t.is(t.throws(() => b.decrypt(messages[1].subarray(0, 10)), { instanceOf: SessionError })?.code, 'ERR_SESSION_FORMAT');
  t.is(text(b.decrypt(messages[1])), 'm1');
});

test('a message beyond 25 000 forward jumps is refused and the next valid one decrypts', (t) => {
  const { a, b } = online();
  const sent = Array.from({ length: 25_003 }, (_, i) => a.encrypt(`#${i}`));
  t.is(text(b.decrypt(sent[0])), '#0');
  // 25 001 keys would have to be derived to reach #25 002.
  t.is(t.throws(() => b.decrypt(sent[25_002]), { instanceOf: SessionError })?.code, 'ERR_SESSION_TOO_FAR_AHEAD');
  t.is(text(b.decrypt(sent[100])), '#100');
  t.is(text(b.decrypt(sent[25_002])), '#25002');
  t.is(text(a.decrypt(b.encrypt('still here'))), 'still here');
});

test('sessions and prekey sets persist as encrypted records', (t) => {
  const { a, b } = online();
  const inFlight = a.encrypt('in flight');
  const record = b.serialize(storageKey);
  t.notDeepEqual(Buffer.from(record), Buffer.from(b.serialize(storageKey)));
  const restored = Session.deserialize(record, storageKey);
  t.is(text(restored.decrypt(inFlight)), 'in flight');
  t.throws(() => Session.deserialize(record, randomBytes(32)), { instanceOf: DecryptionError });
  const tampered = Uint8Array.from(record);
  tampered[40] ^= 1;
  t.throws(() => Session.deserialize(tampered, storageKey), { instanceOf: DecryptionError });
  t.throws(() => Session.deserialize(record, randomBytes(16)), { instanceOf: InvalidArgumentError });
  t.is(t.throws(() => PreKeySet.deserialize(record, storageKey), { instanceOf: SessionError })?.code, 'ERR_SESSION_FORMAT');

  const bob = IdentityKey.generate();
  const set = PreKeySet.generate(bob, { oneTimePreKeys: 3, kem: true });
  const again = PreKeySet.deserialize(set.serialize(storageKey), storageKey);
  t.is(again.oneTimePreKeyCount, 3);
  b.dispose();
  t.throws(() => b.encrypt('x'), { instanceOf: StateError });
  t.throws(() => b.serialize(storageKey), { instanceOf: StateError });
});

test('secureWipe and constantTimeEqual', (t) => {
  const buf = Buffer.from('secret bytes');
  const view = new Uint8Array(buf.buffer, buf.byteOffset + 2, 4);
  secureWipe(view);
  t.is(buf.toString('latin1'), 'se\0\0\0\0 bytes');
  t.throws(() => secureWipe('x' as unknown as Uint8Array), { instanceOf: InvalidArgumentError });
  t.true(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc')));
  t.false(constantTimeEqual(Buffer.from('abc'), Buffer.from('abd')));
  t.false(constantTimeEqual(Buffer.from('abc'), Buffer.from('abcd')));
});
