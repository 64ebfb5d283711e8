/**
 * Changing a password while logged in, through real HTTP on both adapters and
 * with every store (memory, SQLite, PostgreSQL + Redis): the old password stops working, the new one
 * works, a wrong current password changes nothing, a session older than the
 * window must log in again, and a store without setPasswordFile says so.
 */

import test, { type ExecutionContext } from 'ava';
import { createClient } from '../src/client/index';
import {
  type AuthEvents,
  type AuthService,
  type AuthSession,
  createAuthService,
  InvalidArgumentError,
  InvalidLoginError,
  MemoryStore,
  SecretKey,
  ServerSetup,
} from '../src/index';
import { adapters, unique } from './auth-store-adapters';
import { fast } from './helpers';
import { type Mount, mounts } from './support/mounts';

/** keyward's routes under `/auth`; resolves to that URL, the client's base here. */
const underAuth = async (mount: Mount, t: ExecutionContext, service: AuthService) => `${await mount(t, service, { prefix: '/auth' })}/auth`;

for (const [mountName, mount] of Object.entries(mounts)) {
  for (const [storeName, make] of Object.entries(adapters)) {
    test(`${mountName} + ${storeName}: the new password works, the old one no longer does; other sessions stay`, async (t) => {
      let now = Date.now();
      const { store, cleanup } = make(() => now);
      t.teardown(cleanup);
      const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate(), clock: () => now });
      const changed: AuthEvents['passwordChanged'][] = [];
      service.on('passwordChanged', (event) => changed.push(event));
      const base = await underAuth(mount, t, service);
      const client = () => createClient({ baseUrl: base, keyStretching: fast });

      const user = unique(`pw-${mountName}-${storeName}`.replace(/[^a-z-]/g, ''));
      const alice = client();
      await alice.register(user, 'old password long');
      await alice.login(user, 'old password long');
      const laptop = client();
      await laptop.login(user, 'old password long');

      // A wrong current password: refused before anything is sent, nothing changes.
      await t.throwsAsync(alice.changePassword('not the password', 'new password long'), { instanceOf: InvalidLoginError });
      await t.notThrowsAsync(client().login(user, 'old password long'));

      await alice.changePassword('old password long', 'new password long');
      await t.throwsAsync(client().login(user, 'old password long'), { instanceOf: InvalidLoginError });
      await t.notThrowsAsync(client().login(user, 'new password long'));
      t.true(alice.loggedIn);
      // Sessions issued before the change live on until they expire or log out.
      t.is((await laptop.fetch('/logout', { method: 'POST' })).status, 200);
      await new Promise((resolve) => setImmediate(resolve));
      t.is(changed.length, 1);
      t.is(changed[0].username, user);

      // A session older than the window must log in again: the raw route says so.
      now += 10 * 60 * 1000;
      const stale = await alice.fetch('/password/start', { method: 'POST', body: JSON.stringify({ request: 'AAAA' }) });
      t.is(stale.status, 403);
      t.is(((await stale.json()) as { error: { code: string } }).error.code, 'ERR_AUTH_REAUTHENTICATE');
      // Unsigned, the route is out of reach.
      const unsigned = await fetch(`${base}/password/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"request":"AAAA"}' });
      t.is(unsigned.status, 401);
    });
  }
}

test('a store without setPasswordFile: 501 ERR_AUTH_UNSUPPORTED, and the password is unchanged', async (t) => {
  const store = new MemoryStore();
  Object.defineProperty(store, 'setPasswordFile', { value: undefined });
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate() });
  const base = await underAuth(mounts.fastify, t, service);
  const c = createClient({ baseUrl: base, keyStretching: fast });
  await c.register('bo', 'bo password long');
  await c.login('bo', 'bo password long');
  await t.throwsAsync(c.changePassword('bo password long', 'another password'), { code: 'ERR_AUTH_UNSUPPORTED' });
  await t.notThrowsAsync(createClient({ baseUrl: base, keyStretching: fast }).login('bo', 'bo password long'));
});

test('endOtherSessions: the other devices are logged out, this one stays', async (t) => {
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate() });
  const base = await underAuth(mounts.express, t, service);
  const client = () => createClient({ baseUrl: base, keyStretching: fast });
  const me = client();
  await me.register('ends', 'ends old password');
  await me.login('ends', 'ends old password');
  const tablet = client();
  await tablet.login('ends', 'ends old password');
  await me.changePassword('ends old password', 'ends new password', { endOtherSessions: true });
  t.deepEqual(
    (await me.listSessions()).map((s) => s.current),
    [true],
  );
  t.is((await tablet.fetch('/sessions/list', { method: 'POST' })).status, 401);
});

test('a password change or account deletion for anything but a verified AuthSession is refused before the store is asked', async (t) => {
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate() });
  // Shaped like a session, logged in just now, but not one that verify made.
  const forged = { sessionId: 'forged', username: unique('forged'), createdAt: Date.now(), expiresAt: Date.now() + 60_000 } as unknown as AuthSession;
  for (const attempt of [
    () => service.passwordChangeStart(forged, { request: 'AAAA' }),
    () => service.passwordChangeFinish(forged, { upload: 'AAAA' }),
    () => service.deleteAccount(forged),
    () => service.passwordChangeStart(undefined as unknown as AuthSession, { request: 'AAAA' }),
  ]) {
    await t.throwsAsync(attempt, { instanceOf: InvalidArgumentError, message: /AuthSession/ });
  }
});
