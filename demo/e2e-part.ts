/**
 * The end-to-end part of `npm run demo`: alice and bob start a session from
 * bob's prekey bundle (X3DH with an ML-KEM-768 prekey) and talk through the
 * Double Ratchet; whatever carries the bytes (the server, a relay) sees only
 * ciphertext. Mallory's replays and edits are refused.
 */
import { randomBytes } from 'node:crypto';
import { DecryptionError, IdentityKey, PreKeySet, Session, SessionError } from '../src/index';

type Say = (who: string, text: string) => void;
type Expect = (ok: boolean, text: string) => void;

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (e) {
    return e instanceof SessionError || e instanceof DecryptionError ? e.code : String(e);
  }
}

export function e2ePart(say: Say, expect: Expect): void {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const prekeys = PreKeySet.generate(bob, { oneTimePreKeys: 10, kem: true });
  const bundle = prekeys.bundle();
  say('bob', `publishes a signed prekey bundle (${bundle.length} bytes, with an ML-KEM-768 prekey)`);

  const a = Session.fromBundle(alice, bundle, { expectedPeer: bob.fingerprint });
  const first = a.encrypt('meet at noon', 'thread 1');
  say('alice', `starts a session from the bundle while bob is offline; first message ${first.length} bytes`);
  const { session: b, plaintext } = Session.accept(bob, prekeys, first, { ad: 'thread 1' });
  expect(
    Buffer.from(plaintext).toString() === 'meet at noon',
    `bob decrypts "${Buffer.from(plaintext).toString()}" from ${Buffer.from(b.peerPublicKey).toString('hex').slice(0, 16)}…`,
  );

  say('mallory', 'replays the first message to start a second session');
  const reused = codeOf(() => Session.accept(bob, prekeys, first, { ad: 'thread 1' }));
  expect(reused === 'ERR_SESSION_PREKEY_REUSED', `→ ${reused}`);

  const reply = b.encrypt('noon it is', 'thread 1');
  expect(Buffer.from(a.decrypt(reply, 'thread 1')).toString() === 'noon it is', 'bob replies; the ratchet steps; alice decrypts');
  say('mallory', 'delivers the reply again');
  const duplicate = codeOf(() => a.decrypt(reply, 'thread 1'));
  expect(duplicate === 'ERR_SESSION_DUPLICATE', `→ ${duplicate}`);
  say('mallory', 'flips one bit of a new message');
  const next = Uint8Array.from(a.encrypt('bring the documents', 'thread 1'));
  next[next.length - 5] ^= 1;
  const flipped = codeOf(() => b.decrypt(next, 'thread 1'));
  expect(flipped === 'ERR_DECRYPTION', `→ ${flipped}; bob's session is unchanged`);
  expect(Buffer.from(b.decrypt(a.encrypt('still there?', 'thread 1'), 'thread 1')).toString() === 'still there?', 'the next message decrypts');

  const storageKey = randomBytes(32);
  const record = b.serialize(storageKey);
  const restored = Session.deserialize(record, storageKey);
  expect(
    Buffer.from(restored.decrypt(a.encrypt('after restart', 'thread 1'), 'thread 1')).toString() === 'after restart',
    `bob persists his session (${record.length}-byte encrypted record), restarts, and keeps talking`,
  );
  for (const s of [a, b, restored]) s.dispose();
  prekeys.dispose();
}
