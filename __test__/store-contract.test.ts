/**
 * One contract, every store adapter: what the auth service relies on, and a
 * full registration + login + signed request through the real service.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryStore,
  OpaqueClient,
  PgRedisStore,
  SecretKey,
  ServerSetup,
  SqliteStore,
  createAuthService,
  derivePopKey,
  signRequest,
  type AuthStore,
} from '../src/index';
import { fast } from './helpers';

/** A store, and how to let `ms` pass for it: a fake clock where it takes one, real time where the server keeps it. */
type Made = { store: AuthStore; advance: (ms: number) => Promise<void>; cleanup: () => void | Promise<void> };

function fakeClock(make: (clock: () => number) => { store: AuthStore; cleanup: () => void | Promise<void> }): () => Made {
  return () => {
    let now = 1_000_000;
    const made = make(() => now);
    return { ...made, advance: async (ms) => void (now += ms) };
  };
}

function services(): { postgres: string; redis: string } {
  const postgres = process.env.KEYWARD_TEST_PG;
  const redis = process.env.KEYWARD_TEST_REDIS;
  if (!postgres || !redis) throw new Error('KEYWARD_TEST_PG and KEYWARD_TEST_REDIS are unset: run the suite through `npm test`, which starts both');
  return { postgres, redis };
}

const adapters: Record<string, () => Made> = {
  memory: fakeClock((clock) => ({ store: new MemoryStore({ clock }), cleanup: () => {} })),
  sqlite: fakeClock((clock) => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-sqlite-'));
    const store = new SqliteStore(join(dir, 'auth.db'), { clock });
    return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  }),
  'postgres+redis': () => {
    const store = new PgRedisStore({ ...services(), prefix: `test:${randomBytes(6).toString('hex')}:` });
    return { store, advance: (ms) => new Promise((r) => setTimeout(r, ms + 20)), cleanup: () => store.close() };
  },
};

const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

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

  test(`${name}: rate counters, nonces and revocations expire`, async (t) => {
    const { store, advance, cleanup } = make();
    t.teardown(cleanup);
    t.is(await store.hit('k', 300), 1);
    t.is(await store.hit('k', 300), 2);
    await advance(300);
    t.is(await store.hit('k', 300), 1);

    t.true(await store.add('n', 200));
    t.false(await store.add('n', 200));
    await advance(200);
    t.true(await store.add('n', 200));

    t.false(await store.isRevoked('s'));
    await store.revoke('s', Date.now() + 200);
    t.true(await store.isRevoked('s'));
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
