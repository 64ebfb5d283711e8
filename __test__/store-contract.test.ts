/**
 * One contract, every store adapter: what the auth service relies on, and a
 * full registration + login + signed request through the real service.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryStore,
  OpaqueClient,
  SecretKey,
  ServerSetup,
  SqliteStore,
  createAuthService,
  derivePopKey,
  signRequest,
  type AuthStore,
} from '../src/index';
import { fast } from './helpers';

type Make = (clock: () => number) => { store: AuthStore; cleanup: () => void };

const adapters: Record<string, Make> = {
  memory: (clock) => ({ store: new MemoryStore({ clock }), cleanup: () => {} }),
  sqlite: (clock) => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-sqlite-'));
    const store = new SqliteStore(join(dir, 'auth.db'), { clock });
    return { store, cleanup: () => { void store.close?.(); rmSync(dir, { recursive: true, force: true }); } };
  },
};

for (const [name, make] of Object.entries(adapters)) {
  test(`${name}: users are created once`, async (t) => {
    const { store, cleanup } = make(Date.now);
    t.teardown(cleanup);
    t.is(await store.getPasswordFile('alice'), undefined);
    t.true(await store.createUser('alice', new Uint8Array([1, 2, 3])));
    t.false(await store.createUser('alice', new Uint8Array([9])));
    t.deepEqual(Array.from((await store.getPasswordFile('alice'))!), [1, 2, 3]);
  });

  test(`${name}: rate counters, nonces and revocations expire`, async (t) => {
    let now = 1_000_000;
    const { store, cleanup } = make(() => now);
    t.teardown(cleanup);
    t.is(await store.hit('k', 1000), 1);
    t.is(await store.hit('k', 1000), 2);
    now += 1001;
    t.is(await store.hit('k', 1000), 1);

    t.true(await store.add('n', 500));
    t.false(await store.add('n', 500));
    now += 501;
    t.true(await store.add('n', 500));

    t.false(await store.isRevoked('s'));
    await store.revoke('s', now + 100);
    t.true(await store.isRevoked('s'));
    now += 101;
    t.false(await store.isRevoked('s'));
  });

  test(`${name}: the real service registers, logs in and verifies a signed request`, async (t) => {
    const { store, cleanup } = make(Date.now);
    t.teardown(cleanup);
    const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate() });
    const client = new OpaqueClient({ keyStretching: fast });
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
    const reg = client.startRegistration('pw');
    const { response } = await service.registerStart({ username: 'u', request: b64(reg.request) });
    const done = await client.finishRegistration(reg.state, 'pw', Buffer.from(response, 'base64url'));
    await service.registerFinish({ username: 'u', upload: b64(done.upload) });
    const login = client.startLogin('pw');
    const started = await service.loginStart({ username: 'u', request: b64(login.request) }, '127.0.0.1');
    const fin = await client.finishLogin(login.state, 'pw', Buffer.from(started.response, 'base64url'));
    const session = await service.loginFinish({ loginState: started.loginState, finalization: b64(fin.finalization) });
    const popKey = derivePopKey(fin.sessionKey, session.sessionId, { bearer: session.token });
    const headers = signRequest(popKey, { method: 'POST', url: '/api/x', body: '{}' });
    const verified = await service.verify({ method: 'POST', url: '/api/x', headers, body: '{}' });
    t.is(verified.username, 'u');
    await t.throwsAsync(service.verify({ method: 'POST', url: '/api/x', headers, body: '{}' }), { message: /already used/ });
    await service.logout(verified);
    const again = signRequest(popKey, { method: 'POST', url: '/api/x', body: '{}' });
    await t.throwsAsync(service.verify({ method: 'POST', url: '/api/x', headers: again, body: '{}' }), { message: /unknown, expired or revoked/ });
  });
}
