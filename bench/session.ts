/**
 * `npm run bench:session`: keyward's end-to-end sessions against
 * @signalapp/libsignal-client (X3DH/PQXDH + Double Ratchet, in-memory
 * stores) and noise-handshake (Noise_IK over sodium), in one process.
 * Every pair is first checked to work (and the two Noise implementations to
 * interoperate); then medians of alternating batches and ratios. Not a
 * test: quote ratios from one run.
 */
import { randomBytes } from 'node:crypto';
import * as signal from '@signalapp/libsignal-client';
import Noise from 'noise-handshake';
import * as noiseCurve from 'noise-handshake/dh';
import { IdentityKey, NoiseHandshake, PreKeySet, Session, x25519 } from '../src/index';
import { fmt, paired, type Row, table } from './harness';
import { decrypt, encrypt, Party } from './libsignal-stores';

function assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench precondition failed: ${what}`);
}
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

const SAMPLES = Number(process.env.SAMPLES ?? 15);
const KIB = randomBytes(1024);

// ---- keyward ----------------------------------------------------------
const alice = IdentityKey.generate();
const bob = IdentityKey.generate();

function keywardStarter(kem: boolean, count: number) {
  const set = PreKeySet.generate(bob, { oneTimePreKeys: count, kem });
  const bundles = Array.from({ length: count }, () => set.bundle());
  let i = 0;
  return () => {
    const a = Session.fromBundle(alice, bundles[i++ % count], { expectedPeer: bob.publicKey });
    const first = a.encrypt(KIB);
    const { session: b, plaintext } = Session.accept(bob, set, first);
    a.dispose();
    b.dispose();
    return plaintext;
  };
}

function keywardPair() {
  const set = PreKeySet.generate(bob, { oneTimePreKeys: 1 });
  const a = Session.fromBundle(alice, set.bundle(), { expectedPeer: bob.publicKey });
  const { session: b } = Session.accept(bob, set, a.encrypt('start'));
  a.decrypt(b.encrypt('reply'));
  return { a, b };
}

// ---- libsignal --------------------------------------------------------
const sAlice = new Party('alice');
const sBob = new Party('bob');

function libsignalStarter(count: number) {
  const bundles = Array.from({ length: count }, () => sBob.bundle());
  let i = 0;
  return async () => {
    sAlice.sessions.clear();
    sBob.sessions.clear();
    await signal.processPreKeyBundle(bundles[i++ % count], sBob.address, sAlice.address, sAlice.sessions, sAlice.identities);
    return decrypt(sBob, sAlice, await encrypt(sAlice, sBob, KIB));
  };
}

async function libsignalPair() {
  sAlice.sessions.clear();
  sBob.sessions.clear();
  await signal.processPreKeyBundle(sBob.bundle(), sBob.address, sAlice.address, sAlice.sessions, sAlice.identities);
  await decrypt(sBob, sAlice, await encrypt(sAlice, sBob, Buffer.from('start')));
  await decrypt(sAlice, sBob, await encrypt(sBob, sAlice, Buffer.from('reply')));
}

// ---- Noise ------------------------------------------------------------
const nResponder = noiseCurve.generateKeyPair();
const nInitiator = noiseCurve.generateKeyPair();
const BASE = Buffer.alloc(32);
BASE[0] = 9;
const kResponderSecret = randomBytes(32);
const kResponderPublic = x25519(kResponderSecret, BASE);
const kInitiatorSecret = randomBytes(32);
const B2B = 'Noise_IK_25519_ChaChaPoly_BLAKE2b';

function noiseHandshake() {
  const i = new Noise('IK', true, nInitiator);
  const r = new Noise('IK', false, nResponder);
  i.initialise(Buffer.alloc(0), nResponder.publicKey);
  r.initialise(Buffer.alloc(0));
  r.recv(i.send());
  i.recv(r.send());
  return i.hash;
}

function keywardRawHandshake() {
  const i = new NoiseHandshake(B2B, { initiator: true, localStatic: kInitiatorSecret, remoteStatic: kResponderPublic });
  const r = new NoiseHandshake(B2B, { initiator: false, localStatic: kResponderSecret });
  r.read(i.write());
  i.read(r.write());
  return i.handshakeHash;
}

function keywardSessionHandshake() {
  const { session, message } = Session.initiate(alice, bob.publicKey);
  const r = Session.respond(bob, message);
  session.complete(r.reply);
  session.dispose();
  r.session.dispose();
}

async function checks() {
  assert(same(keywardStarter(false, 1)(), KIB), 'keyward start without KEM');
  assert(same(keywardStarter(true, 1)(), KIB), 'keyward start with ML-KEM');
  assert(same(await libsignalStarter(1)(), KIB), 'libsignal start');
  const { a, b } = keywardPair();
  assert(same(b.decrypt(a.encrypt(KIB)), KIB), 'keyward message');
  await libsignalPair();
  assert(same(await decrypt(sBob, sAlice, await encrypt(sAlice, sBob, KIB)), KIB), 'libsignal message');
  // Noise: keyward's plain handshake and noise-handshake interoperate both ways.
  for (const keywardInitiates of [true, false]) {
    const n = new Noise('IK', !keywardInitiates, keywardInitiates ? nResponder : nInitiator);
    if (keywardInitiates) {
      const k = new NoiseHandshake(B2B, { initiator: true, localStatic: kInitiatorSecret, remoteStatic: nResponder.publicKey });
      n.initialise(Buffer.alloc(0));
      assert(Buffer.from(n.recv(k.write('ping'))).toString() === 'ping', 'noise-handshake reads keyward');
      assert(Buffer.from(k.read(n.send(Buffer.from('pong')))).toString() === 'pong', 'keyward reads noise-handshake');
      assert(same(k.handshakeHash, n.hash), 'handshake hashes agree');
    } else {
      const k = new NoiseHandshake(B2B, { initiator: false, localStatic: kResponderSecret });
      n.initialise(Buffer.alloc(0), kResponderPublic);
      assert(Buffer.from(k.read(n.send(Buffer.from('ping')))).toString() === 'ping', 'keyward reads noise-handshake');
      assert(Buffer.from(n.recv(k.write('pong'))).toString() === 'pong', 'noise-handshake reads keyward');
      assert(same(k.handshakeHash, n.hash), 'handshake hashes agree');
    }
  }
  assert(same(keywardRawHandshake(), keywardRawHandshake()) === false, 'fresh ephemerals');
}

async function main() {
  await checks();
  const rows: Row[] = [];
  const batch = 20;
  const starts = SAMPLES * batch * 3;

  const [kNoKem, sStart] = await paired(keywardStarter(false, starts), libsignalStarter(starts), SAMPLES, batch);
  rows.push({ name: 'start from bundle, both sides (keyward without ML-KEM)', keyward: kNoKem, anchor: sStart, unit: 'µs', target: '≥ 3×' });
  const [kKem, sStart2] = await paired(keywardStarter(true, starts), libsignalStarter(starts), SAMPLES, batch);
  rows.push({ name: 'start from bundle, both sides (keyward with ML-KEM-768)', keyward: kKem, anchor: sStart2, unit: 'µs', target: '≥ 2×' });

  const { a, b } = keywardPair();
  await libsignalPair();
  const [kOne, sOne] = await paired(
    () => b.decrypt(a.encrypt(KIB)),
    async () => decrypt(sBob, sAlice, await encrypt(sAlice, sBob, KIB)),
    SAMPLES,
    200,
  );
  rows.push({ name: '1 KiB message, encrypt + decrypt, one way', keyward: kOne, anchor: sOne, unit: 'µs', target: '≥ 10× messages/s' });

  const [kPing, sPing] = await paired(
    () => {
      b.decrypt(a.encrypt(KIB));
      a.decrypt(b.encrypt(KIB));
    },
    async () => {
      await decrypt(sBob, sAlice, await encrypt(sAlice, sBob, KIB));
      await decrypt(sAlice, sBob, await encrypt(sBob, sAlice, KIB));
    },
    SAMPLES,
    50,
  );
  rows.push({ name: 'ping-pong round trip (a DH ratchet step each turn)', keyward: kPing, anchor: sPing, unit: 'µs', target: '≥ 4×' });

  const [kSession, nFull] = await paired(keywardSessionHandshake, noiseHandshake, SAMPLES, 50);
  rows.push({ name: 'Noise_IK handshake, both sides: Session (BLAKE2s, seeds the ratchet)', keyward: kSession, anchor: nFull, unit: 'µs', target: '≥ 1.3×' });
  const [kRaw, nFull2] = await paired(keywardRawHandshake, noiseHandshake, SAMPLES, 50);
  rows.push({
    name: 'Noise_IK handshake, both sides: NoiseHandshake (BLAKE2b, as noise-handshake)',
    keyward: kRaw,
    anchor: nFull2,
    unit: 'µs',
    target: '≥ 1.3×',
  });

  const peer = randomBytes(32);
  const pub = x25519(randomBytes(32), BASE);
  const [kX] = await paired(
    () => x25519(peer, pub),
    () => undefined,
    SAMPLES,
    200,
  );

  console.log(table('operation', 'anchor (libsignal / noise-handshake)', rows));
  console.log('');
  console.log(
    `keyward X25519: ${fmt(kX)}; Session handshake = ${(kSession / (8 * kX)).toFixed(2)} × eight X25519, NoiseHandshake = ${(kRaw / (8 * kX)).toFixed(2)} × eight X25519`,
  );
  console.log(`messages/s one way: keyward ${(1e6 / kOne).toFixed(0)}, libsignal ${(1e6 / sOne).toFixed(0)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
