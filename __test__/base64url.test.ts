import test from 'ava';
import { constantTimeEqual, decodeBase64Url, encodeBase64Url, InvalidArgumentError, SerializationError } from '../src/index';

test('round trips every length', (t) => {
  for (let n = 0; n < 70; n++) {
    const data = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
    const text = encodeBase64Url(data);
    t.false(/[=+/]/.test(text));
    t.deepEqual(decodeBase64Url(text), data);
  }
});

test('rejects padding, the standard alphabet, whitespace and non-canonical bits', (t) => {
  for (const bad of ['AA==', 'AA=', 'a+b/', 'AB CD', 'A', 'AB\n', 'AB', 'AAB']) {
    if (bad === 'AB' || bad === 'AAB') {
      // AB decodes to one byte only if its last bits are zero: "AA" is canonical, "AB" is not.
      t.throws(() => decodeBase64Url(bad), { instanceOf: SerializationError }, bad);
      continue;
    }
    t.throws(() => decodeBase64Url(bad), { instanceOf: SerializationError }, bad);
  }
  t.deepEqual(decodeBase64Url('AA'), new Uint8Array([0]));
  t.throws(() => decodeBase64Url(5 as never), { instanceOf: InvalidArgumentError });
});

test('constantTimeEqual', (t) => {
  t.true(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  t.false(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  t.false(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])));
});
