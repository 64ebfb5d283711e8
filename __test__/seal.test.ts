import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import test from 'ava';
import {
  DecryptionError,
  deriveKey,
  InvalidArgumentError,
  InvalidMacError,
  KeywardError,
  mac,
  makeToken,
  open,
  openJson,
  primitives,
  readToken,
  SecretKey,
  StateError,
  seal,
  sealJson,
  TimestampExpiredError,
  verifyMac,
} from '../src/index';

const fixedClock = (ms: number) => () => ms;

test('seal/open round trip with text, bytes and associated data', (t) => {
  const key = SecretKey.generate();
  const box = seal(key, 'attack at dawn', { aad: 'order 66' });
  t.is(Buffer.from(open(key, box, { aad: 'order 66' })).toString(), 'attack at dawn');
  const data = randomBytes(1000);
  t.deepEqual(Buffer.from(open(key, seal(key, data))), data);
  t.is(seal(key, new Uint8Array(0)).byteLength, 1 + 8 + 24 + 16);
});

test('two seals of the same data differ (fresh nonce)', (t) => {
  const key = SecretKey.generate();
  t.notDeepEqual(seal(key, 'x'), seal(key, 'x'));
});

test('wrong key, wrong aad, missing aad and every flipped bit → DecryptionError', (t) => {
  const key = SecretKey.generate();
  const box = seal(key, 'secret', { aad: 'ctx' });
  t.throws(() => open(SecretKey.generate(), box, { aad: 'ctx' }), { instanceOf: DecryptionError, code: 'ERR_DECRYPTION' });
  t.throws(() => open(key, box, { aad: 'other' }), { instanceOf: DecryptionError });
  t.throws(() => open(key, box), { instanceOf: DecryptionError });
  for (let bit = 0; bit < box.byteLength * 8; bit++) {
    const bad = Uint8Array.from(box);
    bad[bit >> 3] ^= 1 << (bit & 7);
    t.throws(() => open(key, bad, { aad: 'ctx' }), { instanceOf: DecryptionError }, `bit ${bit}`);
  }
  t.throws(() => open(key, box.subarray(0, 48), { aad: 'ctx' }), { instanceOf: DecryptionError });
});

test('ttl with an injected clock: fresh opens, stale throws with expiredBy', (t) => {
  const key = SecretKey.generate();
  const box = seal(key, 'v', { clock: fixedClock(1_000_000) });
  t.is(Buffer.from(open(key, box, { ttl: 60, clock: fixedClock(1_059_000) })).toString(), 'v');
  const error = t.throws(() => open(key, box, { ttl: 60, clock: fixedClock(1_062_500) }), { instanceOf: TimestampExpiredError });
  t.is(error.expiredBy, 2.5);
  t.is(error.code, 'ERR_TIMESTAMP_EXPIRED');
  // Without ttl, age is not checked.
  t.truthy(open(key, box, { clock: fixedClock(9_999_999_999) }));
  // A forged timestamp is a flipped bit like any other.
  const forged = Uint8Array.from(box);
  forged[8] ^= 0xff;
  t.throws(() => open(key, forged, { ttl: 60, clock: fixedClock(1_000_000) }), { instanceOf: DecryptionError });
  t.throws(() => open(key, box, { ttl: -1 }), { instanceOf: InvalidArgumentError });
  t.throws(() => seal(key, 'x', { clock: () => Number.NaN }), { instanceOf: InvalidArgumentError });
});

test('JSON and tokens', (t) => {
  const key = SecretKey.generate();
  const value = { user: 'alice', roles: ['admin'], n: 3 };
  t.deepEqual(openJson(key, sealJson(key, value)), value);
  const token = makeToken(key, 'session 42', { aad: 'cookie' });
  t.regex(token, /^[A-Za-z0-9_-]+$/);
  t.is(Buffer.from(readToken(key, token, { aad: 'cookie' })).toString(), 'session 42');
  t.throws(() => readToken(key, `${token}!`, { aad: 'cookie' }), { instanceOf: DecryptionError });
  t.throws(() => readToken(key, token.slice(0, -2), { aad: 'cookie' }), { instanceOf: DecryptionError });
  t.throws(() => sealJson(key, undefined), { instanceOf: InvalidArgumentError });
});

test('keys: exact length, derivation separates domains, dispose', (t) => {
  t.throws(() => SecretKey.from(new Uint8Array(31)), { instanceOf: InvalidArgumentError });
  t.throws(() => SecretKey.from('x' as unknown as Uint8Array), { instanceOf: InvalidArgumentError });
  const raw = randomBytes(32);
  const key = SecretKey.from(raw);
  t.deepEqual(Buffer.from(key.exportBytes()), raw);
  const a = deriveKey(key, 'files', 'alice');
  t.deepEqual(a.exportBytes(), key.derive('files', 'alice').exportBytes());
  t.notDeepEqual(a.exportBytes(), key.derive('files', 'bob').exportBytes());
  t.notDeepEqual(key.derive('ab', 'c').exportBytes(), key.derive('a', 'bc').exportBytes());
  t.throws(() => open(a, seal(key, 'x')), { instanceOf: DecryptionError });
  key.dispose();
  t.true(key.disposed);
  t.throws(() => seal(key, 'x'), { instanceOf: StateError, code: 'ERR_INVALID_STATE' });
  t.throws(() => key.exportBytes(), { instanceOf: StateError });
});

test('mac: canonical parts, aad, constant-time verify', (t) => {
  const key = SecretKey.generate();
  const tag = mac(key, ['ab', 'c']);
  t.is(tag.byteLength, 64);
  t.notDeepEqual(tag, mac(key, ['a', 'bc']));
  t.notDeepEqual(tag, mac(key, ['ab', 'c'], { aad: 'x' }));
  t.notThrows(() => verifyMac(key, ['ab', 'c'], tag));
  t.throws(() => verifyMac(key, ['a', 'bc'], tag), { instanceOf: InvalidMacError, code: 'ERR_INVALID_MAC' });
  t.throws(() => verifyMac(key, ['ab', 'c'], tag.subarray(0, 32)), { instanceOf: InvalidMacError });
  t.throws(() => verifyMac(SecretKey.generate(), ['ab', 'c'], tag), { instanceOf: InvalidMacError });
  t.throws(() => mac(key, 'ab' as unknown as string[]), { instanceOf: InvalidArgumentError });
  t.true(new InvalidMacError() instanceof KeywardError);
});

test('raw primitives agree with node:crypto', (t) => {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const msg = randomBytes(300);
  const aad = randomBytes(20);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad, { plaintextLength: msg.length });
  const expected = Buffer.concat([cipher.update(msg), cipher.final(), cipher.getAuthTag()]);
  const sealed = primitives.aeadEncrypt('chacha20-poly1305', key, nonce, msg, aad);
  t.deepEqual(Buffer.from(sealed), expected);
  t.deepEqual(Buffer.from(primitives.aeadDecrypt('chacha20-poly1305', key, nonce, sealed, aad)), msg);
  t.throws(() => primitives.aeadDecrypt('chacha20-poly1305', key, nonce, sealed, randomBytes(3)), { instanceOf: DecryptionError });
  t.throws(() => primitives.aeadEncrypt('xchacha20-poly1305', key, nonce, msg), { instanceOf: InvalidArgumentError });
  t.throws(() => primitives.aeadEncrypt('aes' as 'chacha20-poly1305', key, nonce, msg), { instanceOf: InvalidArgumentError });

  const [ikm, salt, info] = [randomBytes(40), randomBytes(16), randomBytes(10)];
  t.deepEqual(Buffer.from(primitives.hkdf('sha512', ikm, salt, info, 100)), Buffer.from(hkdfSync('sha512', ikm, salt, info, 100)));
  t.throws(() => primitives.hkdf('sha256', ikm, salt, info, 255 * 32 + 1), { instanceOf: InvalidArgumentError });
  t.deepEqual(Buffer.from(primitives.hmac('sha256', key, msg)), createHmac('sha256', key).update(msg).digest());
});
