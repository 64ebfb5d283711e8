/**
 * Issue 13, findings 6 and 1: identity keys are parsed strictly and have one
 * fingerprint; a start that learns its peer from the wire checks it against
 * the peer the caller expected.
 */

import { createHash } from 'node:crypto';
import test from 'ava';
import { IdentityKey, InvalidArgumentError, PreKeySet, Session, SessionError } from '../src/index';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const code = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'no error';
};

// IdentityKey.fromSeed(32 × 0x03).publicKey, and that point plus the order-8
// point c7176a70…037a (computed independently with the RFC 8032 formulas).
const seeded = IdentityKey.fromSeed(new Uint8Array(32).fill(3));
const A = 'ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1';
const crafted: Record<string, string> = {
  'a small-order point (order 8)': 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'the neutral element': '0100000000000000000000000000000000000000000000000000000000000000',
  'A plus a torsion point': '801815e70ffa607a3956a51f94ba587a587e203b36255974040c54d591c90949',
  'a non-canonical encoding (y = p + 1)': 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'a non-canonical encoding (y = p)': 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
};

test('the fixture is the seeded identity', (t) => {
  t.is(Buffer.from(seeded.publicKey).toString('hex'), A);
});

test('crafted identity keys are refused wherever a key is taken', (t) => {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const bundle = PreKeySet.generate(bob, { oneTimePreKeys: 1 }).bundle();
  for (const [what, key] of Object.entries(crafted)) {
    const k = hex(key);
    t.is(
      code(() => IdentityKey.fingerprint(k)),
      'ERR_INVALID_ARG_VALUE',
      what,
    );
    t.is(
      code(() => Session.initiate(alice, k)),
      'ERR_INVALID_ARG_VALUE',
      what,
    );
    t.is(
      code(() => Session.fromBundle(alice, bundle, { expectedPeer: k })),
      'ERR_INVALID_ARG_VALUE',
      what,
    );
    t.false(IdentityKey.verify(k, 'm', new Uint8Array(64)), what);
    // In a bundle, a crafted identity field makes the bundle malformed.
    const forged = Uint8Array.from(bundle);
    forged.set(k, 2);
    t.is(
      code(() => Session.fromBundle(alice, forged, { trustOnFirstUse: true })),
      'ERR_SESSION_FORMAT',
      what,
    );
  }
});

test('one identity, one fingerprint: A and -A share it, other keys do not', (t) => {
  const minusA = hex(A);
  minusA[31] ^= 0x80;
  t.regex(seeded.fingerprint, /^[0-9a-f]{64}$/);
  t.is(IdentityKey.fingerprint(hex(A)), seeded.fingerprint);
  t.is(IdentityKey.fingerprint(minusA), seeded.fingerprint);
  t.not(IdentityKey.generate().fingerprint, seeded.fingerprint);
});

test('the fingerprint is the documented SHA-256 (docs/sessions.md)', (t) => {
  for (const id of [seeded, IdentityKey.generate()]) {
    const y = Buffer.from(id.publicKey);
    y[31] &= 0x7f;
    const expected = createHash('sha256').update('keyward identity fingerprint v1\0').update(y).digest('hex');
    t.is(id.fingerprint, expected);
  }
});

test('fromBundle needs the expected peer, or an explicit trust on first use', (t) => {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const mallory = IdentityKey.generate();
  const bobs = PreKeySet.generate(bob, { oneTimePreKeys: 10 });
  const mallorys = PreKeySet.generate(mallory, { oneTimePreKeys: 10 });
  // No decision is not a decision.
  t.throws(() => (Session.fromBundle as (i: IdentityKey, b: Uint8Array) => Session)(alice, bobs.bundle()), { instanceOf: InvalidArgumentError });
  for (const options of [{}, { expectedPeer: null }, { expectedPeer: undefined }, { trustOnFirstUse: false }]) {
    t.throws(() => Session.fromBundle(alice, bobs.bundle(), options as never), { instanceOf: InvalidArgumentError }, JSON.stringify(options));
  }
  t.throws(() => Session.fromBundle(alice, bobs.bundle(), { expectedPeer: bob.publicKey, trustOnFirstUse: true } as never), {
    instanceOf: InvalidArgumentError,
  });
  t.throws(() => Session.fromBundle(alice, bobs.bundle(), { expectedPeer: 'not a fingerprint' }), { instanceOf: InvalidArgumentError });
  // A directory serving Mallory's bundle for Bob.
  for (const expectedPeer of [bob.publicKey, bob.fingerprint, bob.fingerprint.toUpperCase()]) {
    const err = t.throws(() => Session.fromBundle(alice, mallorys.bundle(), { expectedPeer }), { instanceOf: SessionError });
    t.is(err?.code, 'ERR_SESSION_UNEXPECTED_PEER');
    const a = Session.fromBundle(alice, bobs.bundle(), { expectedPeer });
    t.is(a.peerFingerprint, bob.fingerprint);
  }
  const tofu = Session.fromBundle(alice, mallorys.bundle(), { trustOnFirstUse: true });
  t.is(tofu.peerFingerprint, mallory.fingerprint);
});

test('accept and respond check an expected initiator', (t) => {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const mallory = IdentityKey.generate();
  const prekeys = PreKeySet.generate(bob, { oneTimePreKeys: 1 });
  const first = Session.fromBundle(mallory, prekeys.bundle(), { expectedPeer: bob.fingerprint }).encrypt('hi');
  const err = t.throws(() => Session.accept(bob, prekeys, first, { expectedPeer: alice.publicKey }), { instanceOf: SessionError });
  t.is(err?.code, 'ERR_SESSION_UNEXPECTED_PEER');
  t.is(prekeys.oneTimePreKeyCount, 1, 'a refused start consumes nothing');
  const { session, plaintext } = Session.accept(bob, prekeys, first, { expectedPeer: mallory.fingerprint });
  t.is(Buffer.from(plaintext).toString(), 'hi');
  t.is(session.peerFingerprint, mallory.fingerprint);

  const { message } = Session.initiate(mallory, bob.publicKey);
  t.is(
    code(() => Session.respond(bob, message, { expectedPeer: alice.fingerprint })),
    'ERR_SESSION_UNEXPECTED_PEER',
  );
  const r = Session.respond(bob, message, { expectedPeer: mallory.fingerprint });
  t.is(r.peerFingerprint, mallory.fingerprint);
});
