/**
 * Issue 13, finding 9: sizes and counts cross into Rust as numbers. napi's
 * u32 conversion used to wrap (2^32 + 32 became 32) and turned NaN, negative
 * or fractional numbers into other counts; every such argument is now
 * checked and refused with InvalidArgumentError.
 */

import { randomBytes } from 'node:crypto';
import test from 'ava';
import { createSealStream, InvalidArgumentError, primitives, SecretKey } from '../src/index';
import { binding } from '../src/native';

const ikm = randomBytes(32);
const empty = new Uint8Array(0);
const bad = [2 ** 32 + 32, 2 ** 32, 2 ** 53, 2 ** 53 + 2, Number.NaN, -1, 1.5, Infinity];

test('hkdf: lengths up to 255 hash lengths, nothing else', (t) => {
  t.is(primitives.hkdf('sha256', ikm, empty, empty, 255 * 32).length, 255 * 32);
  t.is(primitives.hkdf('sha512', ikm, empty, empty, 255 * 64).length, 255 * 64);
  t.is(primitives.hkdf('sha256', ikm, empty, empty, 0).length, 0);
  for (const length of [...bad, 255 * 32 + 1]) {
    const err = t.throws(() => primitives.hkdf('sha256', ikm, empty, empty, length), { instanceOf: InvalidArgumentError }, `length ${length}`);
    t.is(err?.code, 'ERR_INVALID_ARG_VALUE');
  }
  t.throws(() => primitives.hkdf('sha512', ikm, empty, empty, 255 * 64 + 1), { instanceOf: InvalidArgumentError });
  t.throws(() => primitives.hkdf('sha256', ikm, empty, empty, '32' as unknown as number), { instanceOf: InvalidArgumentError });
});

test('the binding itself refuses a wrapping HKDF length', (t) => {
  // 2^32 + 32 used to arrive as 32 and return 32 bytes.
  t.throws(() => binding.hkdf('sha256' as never, ikm, empty, empty, 2 ** 32 + 32), { code: 'ERR_INVALID_ARG_VALUE' } as never);
});

test('stream chunk sizes are refused, not wrapped', (t) => {
  const key = SecretKey.generate();
  t.notThrows(() => createSealStream(key, { chunkSize: 65536 }));
  // 2^32 + 65536 used to be taken as 64 KiB.
  for (const chunkSize of [2 ** 32 + 65536, 2 ** 53, 1023, 16 * 1024 * 1024 + 1, -65536]) {
    t.throws(() => createSealStream(key, { chunkSize }), { instanceOf: InvalidArgumentError }, `chunkSize ${chunkSize}`);
  }
});

test('password costs given to the binding are refused, not wrapped', (t) => {
  const options = (memory: number) => ({ memory, iterations: 1, parallelism: 1 });
  // 2^32 + 8 KiB used to hash with m = 8 KiB.
  for (const memory of [2 ** 32 + 8192, Number.NaN, -1, 8192.5]) {
    t.throws(() => binding.hashPasswordSync(Buffer.from('pw'), options(memory), undefined), { code: 'ERR_INVALID_ARG_VALUE' } as never, `memory ${memory}`);
  }
  t.regex(binding.hashPasswordSync(Buffer.from('pw'), options(8192), undefined), /^\$argon2id\$/);
});

test('prekey counts given to the binding are refused, not wrapped', async (t) => {
  // 2^32 + 1 used to generate one prekey.
  t.throws(() => binding.generateOneTimePreKeys(2 ** 32 + 1), { code: 'ERR_INVALID_ARG_VALUE' } as never);
  t.throws(() => binding.generateOneTimePreKeys(-1), { code: 'ERR_INVALID_ARG_VALUE' } as never);
  await t.notThrowsAsync(binding.generateOneTimePreKeys(1));
});
