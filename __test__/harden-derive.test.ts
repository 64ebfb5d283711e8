/**
 * Issue 13, finding 8: `key.derive(...)` must never reproduce one of the
 * key's internal subkeys. Before the fix, `derive('keyward subkey', 'mac')`
 * returned the MAC subkey itself, so its bytes forged `mac()` tags.
 */
import test from 'ava';
import { mac, primitives, SecretKey } from '../src/index';

/** The canonical list encoding of docs/sealed-data.md: a count, then each part with its length (u64 big-endian). */
function encodeParts(parts: Uint8Array[]): Buffer {
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  return Buffer.concat([u64(parts.length), ...parts.flatMap((p) => [u64(p.length), Buffer.from(p)])]);
}

const internalLabels = ['keyward subkey', 'keyward vault manifest', 'keyward vault namespace'];
const purposes = [undefined, 'box', 'mac', 'stream'];

test('no derive(label, purpose) with an internal label yields the MAC subkey', (t) => {
  const key = SecretKey.generate();
  const parts = ['user', '42'];
  const tag = Buffer.from(mac(key, parts));
  const message = encodeParts([new Uint8Array(0), encodeParts(parts.map((p) => Buffer.from(p)))]);
  for (const label of internalLabels) {
    for (const purpose of purposes) {
      const derived = purpose === undefined ? key.derive(label) : key.derive(label, purpose);
      const forged = Buffer.from(primitives.hmac('sha512', derived.exportBytes(), message));
      t.false(forged.equals(tag), `derive(${label}, ${purpose}) reproduced the MAC subkey`);
    }
  }
});

test('user derivations stay deterministic and separated', (t) => {
  const key = SecretKey.generate();
  const a = Buffer.from(key.derive('app', 'x').exportBytes());
  t.true(a.equals(Buffer.from(key.derive('app', 'x').exportBytes())));
  t.false(a.equals(Buffer.from(key.derive('app', 'y').exportBytes())));
  t.false(Buffer.from(key.derive('a', 'bc').exportBytes()).equals(Buffer.from(key.derive('ab', 'c').exportBytes())));
});
