/**
 * Issue 13, the sweep's known findings fixed at their root: session starts,
 * `Vault#set` and `keepRawBody` check their arguments before reading them,
 * and `secureWipe` refuses shared memory it cannot wipe safely.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { keepRawBody } from '../src/express/index';
import { IdentityKey, InvalidArgumentError, PreKeySet, SecretKey, Session, secureWipe, Vault } from '../src/index';

const invalid = { instanceOf: InvalidArgumentError, code: 'ERR_INVALID_ARG_VALUE' };
const notAnIdentity: unknown[] = [undefined, null, 5, 'identity', {}, { native: {} }, new Uint8Array(32)];
const notAnOptionsBag: unknown[] = [null, 5, 'options', true];
const asAny = (v: unknown) => v as never;

test('prekey sets refuse an identity or options bag that is not one', async (t) => {
  const alice = IdentityKey.generate();
  for (const bad of notAnIdentity) {
    t.throws(() => PreKeySet.generate(asAny(bad)), invalid, String(bad));
    await t.throwsAsync(PreKeySet.generateAsync(asAny(bad)), invalid, String(bad));
  }
  for (const bad of notAnOptionsBag) {
    t.throws(() => PreKeySet.generate(alice, asAny(bad)), invalid, String(bad));
    await t.throwsAsync(PreKeySet.generateAsync(alice, asAny(bad)), invalid, String(bad));
  }
  const set = PreKeySet.generate(alice, { oneTimePreKeys: 1 });
  for (const bad of notAnIdentity) t.throws(() => set.rotate(asAny(bad)), invalid, String(bad));
  set.rotate(alice);
  t.is(set.oneTimePreKeyCount, 1);
});

test('session starts refuse an identity, prekey set or options bag that is not one', async (t) => {
  const alice = IdentityKey.generate();
  const bob = IdentityKey.generate();
  const set = PreKeySet.generate(bob, { oneTimePreKeys: 1 });
  const bundle = set.bundle();
  const { message } = Session.initiate(alice, bob.publicKey);
  const offline = Session.fromBundle(alice, bundle, { expectedPeer: bob.publicKey }).encrypt('hi');
  for (const bad of notAnIdentity) {
    const why = String(bad);
    t.throws(() => Session.initiate(asAny(bad), bob.publicKey), invalid, why);
    t.throws(() => Session.respond(asAny(bad), message, { replayGuard: false }), invalid, why);
    await t.throwsAsync(Session.respondAsync(asAny(bad), message, { replayGuard: false }), invalid, why);
    t.throws(() => Session.fromBundle(asAny(bad), bundle, { trustOnFirstUse: true }), invalid, why);
    t.throws(() => Session.accept(asAny(bad), set, offline), invalid, why);
    t.throws(() => Session.accept(bob, asAny(bad), offline), invalid, why);
  }
  for (const bad of notAnOptionsBag) {
    const why = String(bad);
    t.throws(() => Session.initiate(alice, bob.publicKey, asAny(bad)), invalid, why);
    t.throws(() => Session.respond(bob, message, asAny(bad)), invalid, why);
    await t.throwsAsync(Session.respondAsync(bob, message, asAny(bad)), invalid, why);
    t.throws(() => Session.fromBundle(alice, bundle, asAny(bad)), invalid, why);
    t.throws(() => Session.accept(bob, set, offline, asAny(bad)), invalid, why);
  }
  // Nothing was consumed by the refusals: the one-time prekey still starts the session.
  t.is(set.oneTimePreKeyCount, 1);
  t.is(Buffer.from(Session.accept(bob, set, offline).plaintext).toString(), 'hi');
  t.is(Session.respond(bob, message).peerFingerprint, alice.fingerprint);
});

test('Vault#set refuses a value JSON cannot hold and writes nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-vault-args-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const vault = await Vault.open(dir, SecretKey.generate());
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const bad: unknown[] = [10n, { n: 10n }, [1, 2n], () => 1, { f: () => 1 }, Symbol('s'), { s: Symbol('s') }, cyclic];
  for (const value of bad) t.throws(() => vault.set('tag', asAny(value)), invalid, typeof value);
  t.false(vault.hasChanges);
  t.false(vault.has('tag'));
  vault.set('tag', { n: 1, list: [1, 'two', null], nested: { ok: true } });
  t.deepEqual(vault.get('tag'), { n: 1, list: [1, 'two', null], nested: { ok: true } });
  vault.close();
});

test('keepRawBody refuses anything but a request and its bytes', (t) => {
  for (const req of [undefined, null, 5, 'req']) t.throws(() => keepRawBody(asAny(req), {}, Buffer.from('x')), invalid, String(req));
  const req: { rawBody?: Uint8Array } = {};
  t.throws(() => keepRawBody(asAny(req), {}, asAny('text')), invalid);
  t.is(req.rawBody, undefined);
  const body = Buffer.from('{"a":1}');
  keepRawBody(asAny(req), {}, body);
  t.is(req.rawBody, body);
});

test('secureWipe wipes a plain view in place and refuses a shared one', (t) => {
  const plain = Buffer.from('secret bytes');
  secureWipe(new Uint8Array(plain.buffer, plain.byteOffset, 6));
  t.is(plain.toString('latin1'), '\0\0\0\0\0\0 bytes');
  const shared = new Uint8Array(new SharedArrayBuffer(8)).fill(7);
  t.throws(() => secureWipe(shared), invalid);
  t.deepEqual([...shared], [7, 7, 7, 7, 7, 7, 7, 7]);
});
