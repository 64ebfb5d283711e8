/**
 * Concurrent bundle claims (`node scripts/with-services.mjs npx ava
 * __test__/relay-bundle-race.test.ts`): a device uploaded 50 one-time X25519
 * and 50 one-time ML-KEM prekeys (a real PreKeySet's upload), then 100
 * requesters ask for its bundle at once. Every one-time key must go out
 * exactly once: 50 distinct of each kind, no key twice, and 50 answers
 * without one of each kind (the last-resort keys). On PostgreSQL through two
 * relay instances (half the requesters on each, sharing the database as
 * separate processes would), and on SQLite through one.
 *
 * Pairing: the 50 answers without an X25519 key are the 50 without an
 * ML-KEM key. On PostgreSQL a claim locks the device's prekey row first, so
 * claims on one device take turns; with only `FOR UPDATE SKIP LOCKED` on the
 * keys, a claim could take the last X25519 key while another took the last
 * ML-KEM one (seen: 48 answers with neither instead of 50).
 */
import test, { type ExecutionContext } from 'ava';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { IdentityKey } from '../src/session';
import { makeUpload, type Relay, type RelayOptions, startRelay } from './support/relay-harness';

const KEYS = 50;
const REQUESTERS = 100;

/** Out of the way: 100 distinct requesters fetch once each, but the test must not depend on the default's size. */
const server = (): RelayOptions['server'] => ({ bundleRateLimiter: new RateLimiterMemory({ points: 10_000, duration: 600 }) });

async function race(t: ExecutionContext, relays: Relay[]) {
  const bob = IdentityKey.generate();
  const b = await relays[0]!.connect('tcp', bob);
  const { upload, bundles } = makeUpload(bob, { oneTime: KEYS, oneTimeKem: KEYS });
  t.like((await b.request(upload)).status, { oneTime: KEYS, oneTimeKem: KEYS });

  // Connected first (half on each instance, both transports), then all asking at once.
  const requesters = await Promise.all(Array.from({ length: REQUESTERS }, (_, i) => relays[i % relays.length]!.connect(i % 4 < 2 ? 'tcp' : 'websocket')));
  const answers = await Promise.all(requesters.map((c) => c.request({ type: 'GetBundle', identity: bob.publicKey, device: 1 })));

  // A bundle is byte for byte what the set published with one of its one-time X25519 keys, or the
  // signed section alone (its one-time flag 0): bundles[0] without `flag 1 ‖ id ‖ key`, then 0.
  const first = Buffer.from(bundles[0]!);
  const lastResort = Buffer.concat([first.subarray(0, first.length - 37), Buffer.from([0])]);
  const published = new Map(bundles.map((bundle, i) => [Buffer.from(bundle).toString('hex'), i]));
  const kemKeys = new Map(upload.oneTimeKem.map((k) => [k.id, Buffer.from(k.key)]));
  const x25519Given: number[] = [];
  const kemGiven: number[] = [];
  let [neither, withoutX25519, withoutKem] = [0, 0, 0];
  for (const answer of answers) {
    const bundle = Buffer.from(answer.bundle);
    const index = published.get(bundle.toString('hex'));
    if (index !== undefined) x25519Given.push(index);
    else t.deepEqual(bundle, lastResort, 'a bundle without a one-time key is the signed section alone');
    const kem = answer.oneTimeKem ?? undefined;
    if (kem !== undefined) {
      t.deepEqual(Buffer.from(kem.key), kemKeys.get(kem.id), `one-time ML-KEM key ${kem.id} is the one uploaded`);
      kemGiven.push(kem.id);
    }
    if (index === undefined) withoutX25519++;
    if (kem === undefined) withoutKem++;
    if (index === undefined && kem === undefined) neither++;
  }
  t.is(new Set(x25519Given).size, x25519Given.length, 'no one-time X25519 key handed out twice');
  t.is(new Set(kemGiven).size, kemGiven.length, 'no one-time ML-KEM key handed out twice');
  t.is(x25519Given.length, KEYS, 'every one-time X25519 key handed out');
  t.is(kemGiven.length, KEYS, 'every one-time ML-KEM key handed out');
  t.is(withoutX25519, REQUESTERS - KEYS, 'the other answers carry the last-resort X25519 key only');
  t.is(withoutKem, REQUESTERS - KEYS, 'the other answers carry the last-resort ML-KEM key only');
  t.is(neither, REQUESTERS - KEYS, 'the same answers go without both: a claim takes one of each kind while both last');
  t.like(await relays[1 % relays.length]!.store.prekeyCounts(Buffer.from(bob.fingerprint, 'hex'), 1), { oneTime: 0, oneTimeKem: 0 });
}

test('postgres: 100 concurrent bundle fetches through two instances on one PostgreSQL hand out each one-time key once', async (t) => {
  t.timeout(120_000);
  const relays = [await startRelay(t, { postgres: true, server: server() }), await startRelay(t, { postgres: true, server: server() })];
  await race(t, relays);
});

test('100 concurrent bundle fetches on SQLite hand out each one-time key once', async (t) => {
  t.timeout(120_000);
  await race(t, [await startRelay(t, { server: server() })]);
});
