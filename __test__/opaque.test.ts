import test from 'ava';
import {
  ClientLoginState,
  ClientRegistrationState,
  InvalidArgumentError,
  InvalidLoginError,
  InvalidStateError,
  type KeyStretching,
  KeywardError,
  login as lowLogin,
  registration as lowRegistration,
  OpaqueClient,
  OpaqueError,
  OpaqueServer,
  SerializationError,
  ServerLoginState,
  ServerRegistration,
  ServerSetup,
  SizeError,
  suites,
} from '../src/index';
import { binding } from '../src/native';
import { fast, hex, login, register, world } from './helpers';

const presets: KeyStretching[] = ['memory-constrained', 'rfc-recommended', { iterations: 2, memory: 4096, parallelism: 2 }];

for (const suite of suites) {
  for (const preset of presets) {
    const label = typeof preset === 'string' ? preset : 'custom';
    test(`${suite} / ${label}: register and log in, both sides agree`, async (t) => {
      const w = world(suite, preset);
      const { record, result } = await register(w, 'alice', 'correct horse');
      t.deepEqual(result.serverPublicKey, w.setup.publicKey);
      const { client, server } = await login(w, 'alice', 'correct horse', record);
      t.is(hex(client.sessionKey), hex(server.sessionKey));
      t.is(hex(client.exportKey), hex(result.exportKey));
      t.true(OpaqueClient.verifyServerPublicKey(w.setup.publicKey, client.serverPublicKey));
      t.is(record.suite, suite);
    });
  }
}

test('sync twins give the same protocol results', (t) => {
  const w = world();
  const reg = w.client.startRegistration('pw');
  const done = w.client.finishRegistrationSync(reg.state, 'pw', w.server.startRegistration(reg.request, 'bob'));
  const record = w.server.finishRegistration(done.upload);
  const start = w.client.startLogin('pw');
  const s = w.server.startLogin(record, start.request, 'bob');
  const fin = w.client.finishLoginSync(start.state, 'pw', s.response);
  t.deepEqual(w.server.finishLogin(s.state, fin.finalization).sessionKey, fin.sessionKey);
  t.deepEqual(fin.exportKey, done.exportKey);
});

test('passwords may be bytes; identifiers and context must agree', async (t) => {
  const w = world('p256_sha256');
  const password = new Uint8Array([0, 1, 2, 255]);
  const params = { identifiers: { client: 'alice@example.com', server: 'example.com' }, context: 'app v1' };
  const { record } = await register(w, 'alice', password as unknown as string, params);
  const { request, state } = w.client.startLogin(password);
  const s = w.server.startLogin(record, request, 'alice', params);
  const fin = await w.client.finishLogin(state, password, s.response, params);
  t.deepEqual(w.server.finishLogin(s.state, fin.finalization, params).sessionKey, fin.sessionKey);

  const again = w.client.startLogin(password);
  const s2 = w.server.startLogin(record, again.request, 'alice', { ...params, context: 'app v2' });
  await t.throwsAsync(w.client.finishLogin(again.state, password, s2.response, params), { instanceOf: InvalidLoginError });
});

test('wrong password: the client rejects with InvalidLoginError (async and sync)', async (t) => {
  const w = world();
  const { record } = await register(w, 'alice', 'right');
  const err = await t.throwsAsync(login(w, 'alice', 'wrong', record), { instanceOf: InvalidLoginError });
  t.is(err?.code, 'ERR_OPAQUE_INVALID_LOGIN');
  t.true(err instanceof OpaqueError && err instanceof KeywardError);

  const start = w.client.startLogin('wrong');
  const s = w.server.startLogin(record, start.request, 'alice');
  t.throws(() => w.client.finishLoginSync(start.state, 'wrong', s.response), { instanceOf: InvalidLoginError });
});

test('a forged finalization is refused by the server', async (t) => {
  const w = world();
  const { record } = await register(w, 'alice', 'pw');
  const start = w.client.startLogin('pw');
  const s = w.server.startLogin(record, start.request, 'alice');
  const fin = await w.client.finishLogin(start.state, 'pw', s.response);
  const forged = fin.finalization.slice();
  forged[5] ^= 0x40;
  t.throws(() => w.server.finishLogin(s.state, forged), { instanceOf: InvalidLoginError });
});

test('unknown user: null record gives a same-size response and a failed login', async (t) => {
  const w = world();
  const { record } = await register(w, 'alice', 'pw');
  const start = w.client.startLogin('pw');
  const real = w.server.startLogin(record, start.request, 'alice');
  const fake = w.server.startLogin(null, start.request, 'nobody');
  t.is(fake.response.length, real.response.length);
  await t.throwsAsync(login(w, 'nobody', 'pw', null), { instanceOf: InvalidLoginError });
});

test('a pinned server key that differs makes the login fail', async (t) => {
  const w = world();
  const { record } = await register(w, 'alice', 'pw');
  const other = ServerSetup.generate().publicKey;
  await t.throwsAsync(login(w, 'alice', 'pw', record, { serverPublicKey: other }), { instanceOf: InvalidLoginError, message: /pinned/ });
  const ok = await login(w, 'alice', 'pw', record, { serverPublicKey: w.setup.publicKey });
  t.deepEqual(ok.client.sessionKey, ok.server.sessionKey);
});

test('states are single-use: a second finish throws InvalidStateError', async (t) => {
  const w = world();
  const { record } = await register(w, 'alice', 'pw');
  const start = w.client.startLogin('pw');
  const s = w.server.startLogin(record, start.request, 'alice');
  const fin = await w.client.finishLogin(start.state, 'pw', s.response);
  t.true(start.state.isSpent);
  await t.throwsAsync(w.client.finishLogin(start.state, 'pw', s.response), { instanceOf: InvalidStateError });
  t.throws(() => start.state.serialize(), { instanceOf: InvalidStateError });
  w.server.finishLogin(s.state, fin.finalization);
  t.throws(() => w.server.finishLogin(s.state, fin.finalization), { instanceOf: InvalidStateError, code: 'ERR_OPAQUE_INVALID_STATE' } as never);
});

test('dispose() wipes states and setups; later use throws InvalidStateError', (t) => {
  const w = world();
  const reg = w.client.startRegistration('pw');
  reg.state.dispose();
  t.true(reg.state.isSpent);
  t.throws(() => w.client.finishRegistrationSync(reg.state, 'pw', new Uint8Array(64)), { instanceOf: InvalidStateError });
  const setup = ServerSetup.generate();
  setup.dispose();
  t.throws(() => setup.publicKey, { instanceOf: InvalidStateError });
  t.throws(() => setup.serialize(), { instanceOf: InvalidStateError });
});

test('states, setups and records survive serialize/deserialize', async (t) => {
  for (const suite of suites) {
    const w = world(suite);
    const setup2 = ServerSetup.deserialize(w.setup.serialize());
    t.is(setup2.suite, suite);
    t.deepEqual(setup2.publicKey, w.setup.publicKey);
    const server2 = new OpaqueServer(setup2);

    const reg = w.client.startRegistration('pw');
    const regState = ClientRegistrationState.deserialize(reg.state.serialize());
    const done = await w.client.finishRegistration(regState, 'pw', server2.startRegistration(reg.request, 'u'));
    const record = ServerRegistration.deserialize(w.server.finishRegistration(done.upload).serialize());

    const start = w.client.startLogin('pw');
    const loginState = ClientLoginState.deserialize(start.state.serialize());
    const s = server2.startLogin(record, start.request, 'u');
    const serverState = ServerLoginState.deserialize(s.state.serialize());
    const fin = await w.client.finishLogin(loginState, 'pw', s.response);
    t.deepEqual(w.server.finishLogin(serverState, fin.finalization).sessionKey, fin.sessionKey, suite);
  }
});

test('deserializers reject wrong lengths, trailing bytes, wrong kind and wrong suite', async (t) => {
  const w = world();
  const setupBytes = w.setup.serialize();
  const longer = new Uint8Array([...setupBytes, 0]);
  t.throws(() => ServerSetup.deserialize(longer), { instanceOf: SizeError });
  t.throws(() => ServerSetup.deserialize(setupBytes.subarray(0, setupBytes.length - 1)), { instanceOf: SizeError });
  t.throws(() => ServerSetup.fromRaw('ristretto255_sha512', new Uint8Array(5)), { instanceOf: SizeError });

  const { record } = await register(w, 'alice', 'pw');
  t.throws(() => ServerSetup.deserialize(record.serialize()), { instanceOf: SerializationError });
  const start = w.client.startLogin('pw');
  t.throws(() => ServerLoginState.deserialize(start.state.serialize()), { instanceOf: SerializationError });
  const p256 = world('p256_sha256');
  const { record: p256Record } = await register(p256, 'alice', 'pw');
  t.throws(() => w.server.startLogin(p256Record, start.request, 'alice'), { instanceOf: SerializationError, message: /suite/ });
  t.throws(() => ServerRegistration.fromRaw('p256_sha256', record.serializeRaw()), { instanceOf: SizeError });

  const request = new Uint8Array([...start.request, 1]);
  t.throws(() => w.server.startLogin(record, request, 'alice'), { instanceOf: SizeError, message: /must be 96 bytes, got 97/ });
});

test('invalid points are SerializationError', (t) => {
  const w = world();
  const { request } = w.client.startRegistration('pw');
  t.throws(() => w.server.startRegistration(new Uint8Array(request.length).fill(0xff), 'u'), { instanceOf: SerializationError });
  const p = world('p256_sha256');
  const r = p.client.startRegistration('pw').request.slice();
  r[0] = 0x09;
  t.throws(() => p.server.startRegistration(r, 'u'), { instanceOf: SerializationError });
});

test('low-level mirrors run the same protocol', async (t) => {
  const setup = ServerSetup.generate('p384_sha384');
  const suite = setup.suite;
  const reg = lowRegistration.client.start('pw', { suite });
  const response = lowRegistration.server.start(setup, reg.request, 'carol');
  const done = await lowRegistration.client.finish(reg.state, 'pw', response, { keyStretching: fast });
  const record = lowRegistration.server.finish(done.upload, { suite });
  const start = lowLogin.client.start('pw', { suite });
  const s = lowLogin.server.start(setup, record, start.request, 'carol');
  const fin = await lowLogin.client.finish(start.state, 'pw', s.response, { keyStretching: fast });
  t.deepEqual(lowLogin.server.finish(s.state, fin.finalization).sessionKey, fin.sessionKey);
});

test('arguments are validated with InvalidArgumentError', async (t) => {
  t.throws(() => ServerSetup.generate('curve448' as never), { instanceOf: InvalidArgumentError, code: 'ERR_INVALID_ARG_VALUE' } as never);
  t.throws(() => new OpaqueClient({ suite: 'nope' as never }), { instanceOf: InvalidArgumentError });
  const w = world();
  t.throws(() => w.client.startLogin(42 as never), { instanceOf: InvalidArgumentError });
  t.throws(() => w.server.startRegistration('not bytes' as never, 'u'), { instanceOf: InvalidArgumentError });
  t.throws(() => new OpaqueServer({} as never), { instanceOf: InvalidArgumentError });
  const reg = w.client.startRegistration('pw');
  const response = w.server.startRegistration(reg.request, 'u');
  t.throws(() => w.client.finishRegistrationSync(reg.state, 'pw', response, { keyStretching: { iterations: 0, memory: 8, parallelism: 1 } }), {
    instanceOf: InvalidArgumentError,
  });
  const reg2 = w.client.startRegistration('pw');
  await t.throwsAsync(
    w.client.finishRegistration(reg2.state, 'pw', w.server.startRegistration(reg2.request, 'u'), {
      keyStretching: { iterations: 1, memory: 1, parallelism: 1 },
    }),
    { instanceOf: InvalidArgumentError },
  );
  t.throws(() => w.client.finishLoginSync(reg.state as never, 'pw', response), { instanceOf: InvalidArgumentError });
});

/** Key-stretching costs that are not a whole number from 1 to 2^32 − 1 (the OPAQUE core checks the range). */
const badCosts: unknown[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32, 2 ** 32 + 1, '3', null, undefined];
const goodCosts = { iterations: 1, memory: 64, parallelism: 1 };

test('a key-stretching cost out of 1..2^32−1, fractional, NaN or not a number is an InvalidArgumentError naming it', async (t) => {
  const w = world();
  for (const name of ['iterations', 'memory', 'parallelism'] as const) {
    for (const value of badCosts) {
      const keyStretching = { ...goodCosts, [name]: value } as KeyStretching;
      const label = `${name} = ${String(value)}`;
      const expected = { instanceOf: InvalidArgumentError, code: 'ERR_INVALID_ARG_VALUE', message: new RegExp(`^keyStretching\\.${name} must be`) };
      const reg = w.client.startRegistration('pw');
      const response = w.server.startRegistration(reg.request, 'u');
      t.throws(() => w.client.finishRegistrationSync(reg.state, 'pw', response, { keyStretching }), expected, label);
      // Through an async function: a check made before the Promise exists throws instead of rejecting.
      await t.throwsAsync(async () => w.client.finishRegistration(reg.state, 'pw', response, { keyStretching }), expected, label);
    }
  }
  // A refused cost does not spend the state: the same state finishes with good costs.
  const reg = w.client.startRegistration('pw');
  const response = w.server.startRegistration(reg.request, 'u');
  t.throws(() => w.client.finishRegistrationSync(reg.state, 'pw', response, { keyStretching: { ...goodCosts, iterations: 0 } }), {
    instanceOf: InvalidArgumentError,
  });
  t.true((await w.client.finishRegistration(reg.state, 'pw', response, { keyStretching: goodCosts })).upload.length > 0);
});

test("the server's login finish checks its parameters before it spends the state", (t) => {
  const w = world();
  const reg = w.client.startRegistration('pw');
  const record = w.server.finishRegistration(w.client.finishRegistrationSync(reg.state, 'pw', w.server.startRegistration(reg.request, 'bob')).upload);
  const start = w.client.startLogin('pw');
  const s = w.server.startLogin(record, start.request, 'bob');
  const fin = w.client.finishLoginSync(start.state, 'pw', s.response);
  // The public ServerParams carry no costs, but the binding converts the whole parameter object,
  // so a refused one is the way to reach its conversion: it must come before the state is taken.
  const refused = { keyStretching: { ...goodCosts, iterations: 0 } };
  t.throws(() => binding.serverLoginFinish(s.state.native, fin.finalization, refused), { code: 'ERR_INVALID_ARG_VALUE' } as never);
  t.deepEqual(w.server.finishLogin(s.state, fin.finalization).sessionKey, fin.sessionKey);
});

test('session and export keys are copies: changing them changes nothing in Rust', async (t) => {
  const w = world();
  const { record } = await register(w, 'alice', 'pw');
  const a = await login(w, 'alice', 'pw', record);
  a.client.sessionKey.fill(0);
  const b = await login(w, 'alice', 'pw', record);
  t.notDeepEqual(b.client.sessionKey, a.client.sessionKey);
  t.deepEqual(b.client.exportKey, a.client.exportKey);
});
