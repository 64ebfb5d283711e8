import * as nodeRsArgon2 from '@node-rs/argon2';
import test from 'ava';
import {
  FormatError,
  hashPassword,
  hashPasswordSync,
  InvalidArgumentError,
  needsRehash,
  TimestampExpiredError,
  verifyPassword,
  verifyPasswordSync,
} from '../src/index';

const fast = { memory: 64, iterations: 1, parallelism: 1 };

test('hash and verify, async and sync', async (t) => {
  const hash = await hashPassword('correct horse', { params: fast });
  t.regex(hash, /^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  t.true(await verifyPassword(hash, 'correct horse'));
  t.false(await verifyPassword(hash, 'correct horsf'));
  t.true(verifyPasswordSync(hashPasswordSync('pw', { params: fast }), 'pw'));
  t.not(await hashPassword('same', { params: fast }), await hashPassword('same', { params: fast }));
});

test('pepper and aad are bound but not stored', async (t) => {
  const hash = await hashPassword('pw', { params: fast, pepper: 'server secret', aad: 'user:42' });
  // Nothing beyond the standard fields: no `data=` or `keyid=` parameter carries them.
  t.regex(hash, /^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  t.true(await verifyPassword(hash, 'pw', { pepper: 'server secret', aad: 'user:42' }));
  t.false(await verifyPassword(hash, 'pw', { pepper: 'other', aad: 'user:42' }));
  t.false(await verifyPassword(hash, 'pw', { pepper: 'server secret', aad: 'user:43' }));
  t.false(await verifyPassword(hash, 'pw', { pepper: 'server secret' }));
  t.false(await verifyPassword(hash, 'pw'));
});

test('ttl with an injected clock', async (t) => {
  const hash = await hashPassword('pw', { params: fast, clock: () => 5_000_000 });
  t.true(await verifyPassword(hash, 'pw', { ttl: 3600, clock: () => 5_000_000 + 3_599_000 }));
  const error = await t.throwsAsync(verifyPassword(hash, 'pw', { ttl: 3600, clock: () => 5_000_000 + 3_610_000 }), {
    instanceOf: TimestampExpiredError,
  });
  t.is(error!.expiredBy, 10);
  // The wrong password is still just false.
  t.false(await verifyPassword(hash, 'nope', { ttl: 3600, clock: () => 5_000_000 + 3_610_000 }));
});

test('interoperates with @node-rs/argon2 both ways (no pepper, no aad)', async (t) => {
  const ours = await hashPassword('pw', { params: fast });
  t.true(await nodeRsArgon2.verify(ours, 'pw'));
  t.false(await nodeRsArgon2.verify(ours, 'px'));
  const theirs = await nodeRsArgon2.hash('pw', { memoryCost: 64, timeCost: 1, parallelism: 1, algorithm: 2 });
  t.true(await verifyPassword(theirs, 'pw'));
  t.false(await verifyPassword(theirs, 'px'));
  // Their hash has no keyward timestamp, so a ttl cannot be honoured.
  await t.throwsAsync(verifyPassword(theirs, 'pw', { ttl: 10 }), { instanceOf: FormatError });
});

test('presets, needsRehash and bad input', async (t) => {
  const owasp = await hashPassword('pw');
  t.true(owasp.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'));
  t.false(needsRehash(owasp));
  t.false(needsRehash(owasp, 'owasp'));
  t.true(needsRehash(owasp, 'rfc9106-low-memory'));
  t.true(needsRehash(owasp, { memory: 19456, iterations: 3, parallelism: 1 }));
  const low = await hashPassword('pw', { preset: 'rfc9106-low-memory' });
  t.true(low.startsWith('$argon2id$v=19$m=65536,t=3,p=4$'));
  t.true(await verifyPassword(low, 'pw'));

  for (const bad of ['', 'plain', '$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', '$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ']) {
    await t.throwsAsync(verifyPassword(bad, 'pw'), { instanceOf: FormatError }, bad);
  }
  await t.throwsAsync(hashPassword('pw', { preset: 'fast' as 'owasp' }), { instanceOf: InvalidArgumentError });
  await t.throwsAsync(hashPassword('pw', { params: { memory: 1, iterations: 1, parallelism: 1 } }), { instanceOf: InvalidArgumentError });
  t.throws(() => hashPasswordSync('pw', { preset: 'owasp', params: fast }), { instanceOf: InvalidArgumentError });
  t.throws(() => hashPasswordSync(42 as unknown as string), { instanceOf: InvalidArgumentError });
});

test('the 2 GiB preset (rfc9106-high-memory) hashes and verifies', async (t) => {
  const hash = await hashPassword('pw', { preset: 'rfc9106-high-memory' });
  t.true(hash.startsWith('$argon2id$v=19$m=2097152,t=1,p=4$'));
  t.true(await verifyPassword(hash, 'pw'));
  t.false(needsRehash(hash, 'rfc9106-high-memory'));
});

/** Costs that are not a whole number from 1 to 2^32 − 1, each refused whatever the cost (the seal core checks the range). */
const badCosts: unknown[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32, 2 ** 32 + 1, '3', null, undefined];

test('a cost out of 1..2^32−1, fractional, NaN or not a number is an InvalidArgumentError naming it', async (t) => {
  for (const name of ['memory', 'iterations', 'parallelism'] as const) {
    for (const value of badCosts) {
      const params = { ...fast, [name]: value } as typeof fast;
      const label = `${name} = ${String(value)}`;
      const expected = { instanceOf: InvalidArgumentError, code: 'ERR_INVALID_ARG_VALUE', message: new RegExp(`\\b${name} must be`) };
      t.throws(() => hashPasswordSync('pw', { params }), expected, label);
      await t.throwsAsync(hashPassword('pw', { params }), expected, label);
      t.throws(() => needsRehash('$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', params), expected, label);
    }
  }
});
