/**
 * Issue 13: Argon2 costs are bounded wherever they come from. A stored PHC
 * string is as trustworthy as its database row, and the binding's OPAQUE
 * key-stretching numbers once wrapped at 2^32. Both are refused with a typed
 * error before anything is allocated or hashed.
 */
import test from 'ava';
import { FormatError, hashPasswordSync, InvalidArgumentError, needsRehash, verifyPassword, verifyPasswordSync } from '../src/index';
import { binding, call } from '../src/native';

const fast = { memory: 64, iterations: 1, parallelism: 1 };
const overLimits = ['m=4294967295,t=1,p=1', 'm=2097153,t=1,p=1', 'm=64,t=4294967295,p=1', 'm=64,t=65,p=1', 'm=134217720,t=1,p=16777215', 'm=1024,t=1,p=17'];

test('a stored hash whose costs are above the limits is a FormatError, not an allocation', async (t) => {
  const hash = hashPasswordSync('pw', { params: fast });
  t.true(verifyPasswordSync(hash, 'pw'));
  for (const costs of overLimits) {
    const tampered = hash.replace('m=64,t=1,p=1', costs);
    const error = t.throws(() => verifyPasswordSync(tampered, 'pw'), { instanceOf: FormatError, code: 'ERR_FORMAT' }, costs);
    t.regex(error?.message ?? '', /maximum/, costs);
    await t.throwsAsync(verifyPassword(tampered, 'pw'), { instanceOf: FormatError }, costs);
    t.throws(() => needsRehash(tampered), { instanceOf: FormatError }, costs);
  }
});

test('hashing with costs above the limits is an InvalidArgumentError', (t) => {
  for (const params of [
    { ...fast, memory: 2 * 1024 * 1024 + 1 },
    { ...fast, iterations: 65 },
    { ...fast, memory: 1024, parallelism: 17 },
  ]) {
    const error = t.throws(
      () => hashPasswordSync('pw', { params }),
      { instanceOf: InvalidArgumentError, code: 'ERR_INVALID_ARG_VALUE' },
      JSON.stringify(params),
    );
    t.regex(error?.message ?? '', /maximum/);
  }
});

/** A client registration up to the finish, through the binding (the public API checks these numbers itself). */
function registrationUpToFinish() {
  const setup = binding.ServerSetup.generate(binding.Suite.Ristretto255Sha512);
  const password = Buffer.from('correct horse');
  const { request, state } = binding.clientRegistrationStart(binding.Suite.Ristretto255Sha512, password);
  const response = setup.registrationResponse(request, Buffer.from('alice'));
  return { state, password, response };
}

test('binding: key-stretching numbers out of range are refused, not wrapped to 32 bits', (t) => {
  const wrapped = [
    { iterations: 2 ** 32 + 1, memory: 64, parallelism: 1 },
    { iterations: 1, memory: 2 ** 32 + 64, parallelism: 1 },
    { iterations: 1, memory: 64, parallelism: 2 ** 32 + 1 },
    { iterations: -1, memory: 64, parallelism: 1 },
    { iterations: 1.5, memory: 64, parallelism: 1 },
    { iterations: Number.NaN, memory: 64, parallelism: 1 },
    { iterations: 1, memory: 2 * 1024 * 1024 + 1, parallelism: 1 },
  ];
  for (const costs of wrapped) {
    const { state, password, response } = registrationUpToFinish();
    const params = { keyStretching: costs };
    t.throws(
      () => call(() => binding.clientRegistrationFinishSync(state, password, response, params)),
      { instanceOf: InvalidArgumentError },
      JSON.stringify(costs),
    );
  }
  const { state, password, response } = registrationUpToFinish();
  const done = call(() => binding.clientRegistrationFinishSync(state, password, response, { keyStretching: fast }));
  t.true(done.upload.length > 0);
});
