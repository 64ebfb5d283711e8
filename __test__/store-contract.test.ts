/**
 * One contract, every store adapter: what the auth service relies on, and a
 * full registration + login + signed request through the real service.
 */
import test from 'ava';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { type AuthStore, createAuthService, derivePopKey, OpaqueClient, SecretKey, ServerSetup, signRequest } from '../src/index';
import { type Made, adapters as stores, unique } from './auth-store-adapters';
import { fast } from './helpers';

/** A store, and how to let `ms` pass for it: a fake clock where it takes one, real time where the server keeps it. */
type Timed = Made & { advance: (ms: number) => Promise<void> };

const adapters: Record<string, () => Timed> = {
  memory: () => fakeClock(stores.memory),
  sqlite: () => fakeClock(stores.sqlite),
  'postgres+redis': () => ({ ...stores['postgres+redis'](), advance: (ms) => new Promise((r) => setTimeout(r, ms + 20)) }),
};

function fakeClock(make: (clock: () => number) => Made): Timed {
  let now = 1_000_000;
  return { ...make(() => now), advance: async (ms) => void (now += ms) };
}

/** Rate limiters keep real time (rate-limiter-flexible's clock) in every store. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejection(promise: Promise<unknown>): Promise<RateLimiterRes> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RateLimiterRes) return error;
    throw error;
  }
  throw new Error('the limiter allowed it');
}

for (const [name, make] of Object.entries(adapters)) {
  test(`${name}: users are created once`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    const alice = unique('alice');
    t.is(await store.getPasswordFile(alice), undefined);
    t.true(await store.createUser(alice, new Uint8Array([1, 2, 3])));
    t.false(await store.createUser(alice, new Uint8Array([9])));
    t.deepEqual(Array.from((await store.getPasswordFile(alice))!), [1, 2, 3]);
  });

  test(`${name}: a password file is replaced for an existing user only`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    const bob = unique('bob');
    t.false(await store.setPasswordFile!(bob, new Uint8Array([1])));
    t.is(await store.getPasswordFile(bob), undefined);
    t.true(await store.createUser(bob, new Uint8Array([1, 2])));
    t.true(await store.setPasswordFile!(bob, new Uint8Array([3, 4, 5])));
    t.deepEqual(Array.from((await store.getPasswordFile(bob))!), [3, 4, 5]);
  });

  test(`${name}: session records are listed per user, newest first, until they expire or are revoked; deleting a user removes its records`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    const [cara, dan] = [unique('cara'), unique('dan')];
    const now = Date.now();
    const record = (sessionId: string, username: string, createdAt: number, expiresAt: number, extra = {}) =>
      store.recordSession!({ sessionId, username, createdAt, expiresAt, lastSeenAt: createdAt, ...extra });
    t.true(await store.createUser(cara, new Uint8Array([1])));
    await record(`${cara}-1`, cara, now - 2000, now + 60_000, { address: '10.0.0.1', userAgent: 'laptop' });
    await record(`${cara}-2`, cara, now - 1000, now + 60_000);
    await record(`${cara}-old`, cara, now - 9000, now - 1);
    await record(`${dan}-1`, dan, now, now + 60_000);
    t.deepEqual(await store.listSessions!(cara, now), [
      { sessionId: `${cara}-2`, username: cara, createdAt: now - 1000, expiresAt: now + 60_000, lastSeenAt: now - 1000 },
      {
        sessionId: `${cara}-1`,
        username: cara,
        createdAt: now - 2000,
        expiresAt: now + 60_000,
        lastSeenAt: now - 2000,
        address: '10.0.0.1',
        userAgent: 'laptop',
      },
    ]);
    await store.touchSession!(`${cara}-1`, now + 5);
    t.is((await store.listSessions!(cara, now)).find((s) => s.sessionId === `${cara}-1`)!.lastSeenAt, now + 5);
    await store.revoke(`${cara}-2`, now + 60_000);
    t.deepEqual(
      (await store.listSessions!(cara, now)).map((s) => s.sessionId),
      [`${cara}-1`],
    );
    t.true(await store.deleteUser!(cara));
    t.false(await store.deleteUser!(cara));
    t.is(await store.getPasswordFile(cara), undefined);
    t.deepEqual(await store.listSessions!(cara, now), []);
    t.is((await store.listSessions!(dan, now)).length, 1);
  });

  test(`${name}: a refreshed session's record gets its new expiry and last use, keeping the rest; an unknown session or another user's changes nothing`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    const [erin, fay] = [unique('erin'), unique('fay')];
    const now = Date.now();
    const laptop = {
      sessionId: `${erin}-1`,
      username: erin,
      createdAt: now - 5000,
      expiresAt: now + 1000,
      lastSeenAt: now - 5000,
      address: '10.0.0.2',
      userAgent: 'laptop',
    };
    await store.recordSession!(laptop);
    t.true(await store.extendSession!(laptop.sessionId, erin, now + 60_000, now));
    t.deepEqual(await store.listSessions!(erin, now), [{ ...laptop, expiresAt: now + 60_000, lastSeenAt: now }]);
    // Listed until the new expiry, no longer the old one.
    t.is((await store.listSessions!(erin, now + 30_000)).length, 1);

    t.false(await store.extendSession!(`${erin}-unknown`, erin, now + 90_000, now + 1));
    t.false(await store.extendSession!(laptop.sessionId, fay, now + 90_000, now + 1));
    t.deepEqual(await store.listSessions!(erin, now), [{ ...laptop, expiresAt: now + 60_000, lastSeenAt: now }]);
    t.deepEqual(await store.listSessions!(fay, now), []);
    await store.revoke(laptop.sessionId, now + 60_000);
    t.false(await store.extendSession!(laptop.sessionId, erin, now + 90_000, now + 2));
    t.deepEqual(await store.listSessions!(erin, now), []);
  });

  test(`${name}: nonces and revocations expire`, async (t) => {
    const { store, advance, cleanup } = make();
    t.teardown(cleanup);
    t.true(await store.add('n', 200));
    t.false(await store.add('n', 200));
    await advance(200);
    t.true(await store.add('n', 200));

    t.false(await store.isRevoked('s'));
    await store.revoke('s', Date.now() + 200);
    t.true(await store.isRevoked('s'));
  });

  test(`${name}: limiters count, refuse with the time to wait, block, forget and expire`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    // A window long enough that a slow, shared machine never sees it end between two calls.
    const limiter = store.limiter({ name: 'contract', points: 2, duration: 60 });
    const key = unique('k');
    t.is((await limiter.consume(key)).consumedPoints, 1);
    t.is((await limiter.consume(key)).remainingPoints, 0);
    const refused = await rejection(limiter.consume(key));
    t.true(refused.msBeforeNext > 0 && refused.msBeforeNext <= 60_000, String(refused.msBeforeNext));
    t.is((await limiter.reward(key, 2)).consumedPoints, 1);
    t.true(await limiter.delete(key));
    t.is(await limiter.get(key), null);

    const blocked = unique('b');
    await limiter.block(blocked, 2);
    const held = (await limiter.get(blocked))!;
    t.true(held.consumedPoints > 2);
    t.true(held.msBeforeNext > 0 && held.msBeforeNext <= 2000, String(held.msBeforeNext));

    // Two limiters of one store never share keys.
    const other = store.limiter({ name: 'contract_other', points: 2, duration: 1 });
    t.is(await other.get(blocked), null);

    // Counters expire with their window.
    const short = store.limiter({ name: 'contract_short', points: 2, duration: 1 });
    await short.consume(key);
    await sleep(1100);
    t.is(await short.get(key), null);
    t.is((await short.consume(key)).consumedPoints, 1);
  });

  test(`${name}: the real service registers, logs in and verifies a signed request`, async (t) => {
    const { store, cleanup } = make();
    t.teardown(cleanup);
    const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate() });
    const client = new OpaqueClient({ keyStretching: fast });
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
    const reg = client.startRegistration('pw');
    const user = unique('u');
    const { response } = await service.registerStart({ username: user, request: b64(reg.request) });
    const done = await client.finishRegistration(reg.state, 'pw', Buffer.from(response, 'base64url'));
    await service.registerFinish({ username: user, upload: b64(done.upload) });
    const login = client.startLogin('pw');
    const started = await service.loginStart({ username: user, request: b64(login.request) }, '127.0.0.1');
    const fin = await client.finishLogin(login.state, 'pw', Buffer.from(started.response, 'base64url'));
    const session = await service.loginFinish({ loginState: started.loginState, finalization: b64(fin.finalization) });
    const popKey = derivePopKey(fin.sessionKey, session.sessionId, { bearer: session.token });
    const headers = signRequest(popKey, { method: 'POST', url: '/api/x', body: '{}' });
    const verified = await service.verify({ method: 'POST', url: '/api/x', headers, body: '{}' });
    t.is(verified.username, user);
    await t.throwsAsync(service.verify({ method: 'POST', url: '/api/x', headers, body: '{}' }), { message: /already used/ });
    await service.logout(verified);
    const again = signRequest(popKey, { method: 'POST', url: '/api/x', body: '{}' });
    await t.throwsAsync(service.verify({ method: 'POST', url: '/api/x', headers: again, body: '{}' }), { message: /unknown, expired or revoked/ });
  });
}

for (const name of ['sqlite', 'postgres+redis'] as const) {
  test(`${name}: two stores on the same data share users, nonces, revocations and limiters`, async (t) => {
    const { store, sibling, cleanup } = stores[name]();
    t.teardown(cleanup);
    const other: AuthStore = sibling!();
    const user = unique('shared');
    t.true(await store.createUser(user, new Uint8Array([7])));
    t.false(await other.createUser(user, new Uint8Array([8])));
    t.deepEqual(Array.from((await other.getPasswordFile(user))!), [7]);
    t.true(await store.add('nonce', 10_000));
    t.false(await other.add('nonce', 10_000));
    await store.revoke('sid', Date.now() + 10_000);
    t.true(await other.isRevoked('sid'));
    const a = store.limiter({ name: 'shared', points: 1, duration: 60 });
    const b = other.limiter({ name: 'shared', points: 1, duration: 60 });
    await a.consume(user);
    t.true((await rejection(b.consume(user))).msBeforeNext > 0);
  });
}
