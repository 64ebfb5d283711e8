/**
 * The service's rate limits cannot be turned into a lockout, on every store:
 * login failures count per (username, address) with a growing wait, plus a
 * per-address cap; successes do not count; registration starts are limited
 * per address and per name; registration can be switched off.
 */
import test from 'ava';
import { AuthError, type AuthStore, createAuthService, OpaqueClient, type RateLimitOptions, SecretKey, ServerSetup } from '../src/index';
import { adapters, unique } from './auth-store-adapters';
import { fast } from './helpers';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const opaque = new OpaqueClient({ keyStretching: fast });

function service(store: AuthStore, rateLimit?: RateLimitOptions, extra?: { allowRegistration?: boolean; serverSetup?: ServerSetup; sealKey?: SecretKey }) {
  return createAuthService({
    serverSetup: extra?.serverSetup ?? ServerSetup.generate(),
    sealKey: extra?.sealKey ?? SecretKey.generate(),
    store,
    rateLimit,
    allowRegistration: extra?.allowRegistration,
  });
}
type Service = ReturnType<typeof service>;

async function register(s: Service, user: string, password: string, address = '10.0.0.1') {
  const reg = opaque.startRegistration(password);
  const { response } = await s.registerStart({ username: user, request: b64(reg.request) }, { address });
  const done = await opaque.finishRegistration(reg.state, password, Buffer.from(response, 'base64url'));
  await s.registerFinish({ username: user, upload: b64(done.upload) });
}

/** A full login from `address`; resolves to the session, or rejects with the server's refusal. */
async function login(s: Service, user: string, password: string, address: string) {
  const start = opaque.startLogin(password);
  const started = await s.loginStart({ username: user, request: b64(start.request) }, { address });
  const done = await opaque.finishLogin(start.state, password, Buffer.from(started.response, 'base64url'));
  return s.loginFinish({ loginState: started.loginState, finalization: b64(done.finalization) });
}

/** A failed login as an attacker makes it: started with a guess, finished with garbage. */
async function fail(s: Service, user: string, address: string | { address: string }) {
  const start = opaque.startLogin('guess');
  const started = await s.loginStart({ username: user, request: b64(start.request) }, address);
  await s.loginFinish({ loginState: started.loginState, finalization: b64(new Uint8Array(64)) }).then(
    () => {
      throw new Error('a garbage finalization was accepted');
    },
    (error: AuthError) => {
      if (error.code !== 'ERR_AUTH_LOGIN_FAILED') throw error;
    },
  );
}

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('it was allowed');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const [name, make] of Object.entries(adapters)) {
  test(`${name}: failures from ten addresses do not lock the real user out`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    const s = service(store, { perUser: 2 });
    const alice = unique('alice');
    await register(s, alice, 'right');
    for (let i = 0; i < 10; i++) {
      await fail(s, alice, `203.0.113.${i}`);
      await fail(s, alice, `203.0.113.${i}`);
      // A third start from there must wait, but only from there.
      const waited = await refusal(fail(s, alice, `203.0.113.${i}`));
      t.is(waited.code, 'ERR_AUTH_RATE_LIMITED');
    }
    const session = await login(s, alice, 'right', '198.51.100.7');
    t.truthy(session.token);
  });

  test(`${name}: repeated failures from one address back off, doubling; a success clears them`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    const s = service(store, { perUser: 2 });
    const bob = unique('bob');
    await register(s, bob, 'right');
    const here = '192.0.2.1';
    await fail(s, bob, here);
    await fail(s, bob, here);
    const first = await refusal(fail(s, bob, here));
    t.is(first.status, 429);
    t.true(first.retryAfterMs! > 0 && first.retryAfterMs! <= 1000, String(first.retryAfterMs));
    // Even the right password waits: the wait is for the pair, not for wrong guesses.
    t.is((await refusal(login(s, bob, 'right', here))).code, 'ERR_AUTH_RATE_LIMITED');
    await sleep(first.retryAfterMs! + 50);
    await fail(s, bob, here);
    const second = await refusal(fail(s, bob, here));
    t.true(second.retryAfterMs! > 1000 && second.retryAfterMs! <= 2000, String(second.retryAfterMs));
    await sleep(second.retryAfterMs! + 50);
    t.truthy((await login(s, bob, 'right', here)).token);
    // After the success the pair starts afresh: two failures pass again.
    await fail(s, bob, here);
    await fail(s, bob, here);
  });

  test(`${name}: successful logins do not count; a login started and never finished does`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    const s = service(store, { perUser: 2, perAddress: 3 });
    const carol = unique('carol');
    await register(s, carol, 'right');
    for (let i = 0; i < 6; i++) t.truthy((await login(s, carol, 'right', '192.0.2.9')).token);
    // Two starts abandoned: the next one waits.
    const start = () => s.loginStart({ username: carol, request: b64(opaque.startLogin('x').request) }, { address: '192.0.2.10' });
    await start();
    await start();
    t.is((await refusal(start())).code, 'ERR_AUTH_RATE_LIMITED');
  });

  test(`${name}: one address gets a bounded number of failures over all names`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    const s = service(store, { perUser: 5, perAddress: 3 });
    const stuffer = '203.0.113.50';
    for (let i = 0; i < 3; i++) await fail(s, unique('victim'), stuffer);
    const capped = await refusal(fail(s, unique('victim'), stuffer));
    t.is(capped.code, 'ERR_AUTH_RATE_LIMITED');
    t.true(capped.retryAfterMs! > 0 && capped.retryAfterMs! <= 3_600_000, String(capped.retryAfterMs));
    // Another address is not affected, and the old string form of the address still works.
    await fail(s, unique('victim'), '203.0.113.51');
    const dave = unique('dave');
    await register(s, dave, 'right');
    const start = opaque.startLogin('right');
    t.is((await refusal(s.loginStart({ username: dave, request: b64(start.request) }, stuffer))).code, 'ERR_AUTH_RATE_LIMITED');
  });

  test(`${name}: /register/start is limited per address and per username`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    const s = service(store, { registerPerAddress: 3, registerPerUser: 2 });
    const registerStart = (user: string, address: string) =>
      s.registerStart({ username: user, request: b64(opaque.startRegistration('pw').request) }, { address });
    // The OPRF of a name not yet registered, asked for again and again from different addresses.
    const target = unique('future-user');
    await registerStart(target, '198.51.100.1');
    await registerStart(target, '198.51.100.2');
    const perName = await refusal(registerStart(target, '198.51.100.3'));
    t.is(perName.code, 'ERR_AUTH_RATE_LIMITED');
    t.true(perName.retryAfterMs! > 0);
    // Many names from one address.
    for (let i = 0; i < 3; i++) await registerStart(unique('n'), '198.51.100.20');
    const perAddress = await refusal(registerStart(unique('n'), '198.51.100.20'));
    t.is(perAddress.status, 429);
    t.true(perAddress.retryAfterMs! > 0);
    // Other names from other addresses still register.
    await register(s, unique('erin'), 'pw', '198.51.100.30');
  });
}

test('allowRegistration: false refuses both registration steps with 403; logins still work', async (t) => {
  const { store, cleanup } = adapters.memory();
  t.teardown(cleanup);
  const serverSetup = ServerSetup.generate();
  const sealKey = SecretKey.generate();
  const open = service(store, undefined, { serverSetup, sealKey });
  const closed = service(store, undefined, { serverSetup, sealKey, allowRegistration: false });
  const frank = unique('frank');
  await register(open, frank, 'pw');

  const reg = opaque.startRegistration('pw');
  const start = await refusal(closed.registerStart({ username: unique('new'), request: b64(reg.request) }, { address: '192.0.2.1' }));
  t.is(start.code, 'ERR_AUTH_REGISTRATION_DISABLED');
  t.is(start.status, 403);
  const { response } = await open.registerStart({ username: unique('new'), request: b64(reg.request) });
  const done = await opaque.finishRegistration(reg.state, 'pw', Buffer.from(response, 'base64url'));
  const finish = await refusal(closed.registerFinish({ username: unique('new'), upload: b64(done.upload) }));
  t.is(finish.code, 'ERR_AUTH_REGISTRATION_DISABLED');
  t.is(finish.status, 403);

  t.truthy((await login(closed, frank, 'pw', '192.0.2.1')).token);
});

test('rate limit options are checked', (t) => {
  const { store } = adapters.memory();
  t.throws(() => service(store, { perUser: 0 }), { code: 'ERR_INVALID_ARG_VALUE', message: /perUser/ });
  t.throws(() => service(store, { windowMs: 1500 }), { code: 'ERR_INVALID_ARG_VALUE', message: /whole seconds/ });
});
