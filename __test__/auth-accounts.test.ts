/**
 * Session lists, revoking a device, logging out everywhere and deleting the
 * account, through real HTTP with keyward/client on both adapters and every
 * store (memory, SQLite, PostgreSQL + Redis), with their failure paths.
 */

import test from 'ava';
import { createClient } from '../src/client/index';
import { type AuthEvents, createAuthService, InvalidLoginError, MemoryStore, SecretKey, ServerSetup } from '../src/index';
import { adapters, unique } from './auth-store-adapters';
import { fast } from './helpers';
import { mounts } from './support/mounts';

/** A client whose requests carry `agent` as their User-Agent. */
const device = (base: string, agent: string) =>
  createClient({
    baseUrl: base,
    keyStretching: fast,
    fetch: (url, init) => {
      const headers = new Headers(init?.headers);
      headers.set('user-agent', agent);
      return fetch(url, { ...init, headers });
    },
  });

const status = async (client: ReturnType<typeof createClient>) => {
  try {
    return (await client.fetch('/me')).status;
  } catch (error) {
    return (error as { code: string }).code;
  }
};

for (const [mountName, mount] of Object.entries(mounts)) {
  for (const [storeName, make] of Object.entries(adapters)) {
    test(`${mountName} + ${storeName}: list sessions, revoke a device, log out everywhere, delete the account`, async (t) => {
      const { store, cleanup } = make();
      t.teardown(cleanup);
      const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate() });
      const deleted: AuthEvents['accountDeleted'][] = [];
      service.on('accountDeleted', (event) => deleted.push(event));
      const base = await mount(t, service);
      const user = unique(`acct-${storeName}-${mountName}`.replace(/[^a-z-]/g, ''));

      const laptop = device(base, 'laptop-agent');
      await laptop.register(user, 'account password');
      await laptop.login(user, 'account password');
      const phone = device(base, 'phone-agent');
      await phone.login(user, 'account password');
      const other = device(base, 'other-agent');
      await other.register(`${user}-other`, 'other password');
      await other.login(`${user}-other`, 'other password');

      const listed = await phone.listSessions();
      t.deepEqual(
        listed.map((s) => [s.userAgent, s.address, s.current, s.username]),
        [
          ['phone-agent', '127.0.0.1', true, user],
          ['laptop-agent', '127.0.0.1', false, user],
        ],
      );
      t.true(listed.every((s) => s.createdAt <= s.lastSeenAt && s.lastSeenAt < s.expiresAt));
      t.false(JSON.stringify(listed).includes(phone.bearerToken!));

      // Another user's session id is not this user's to revoke.
      const otherId = (await other.listSessions())[0].sessionId;
      await t.throwsAsync(phone.revokeSession(otherId), { code: 'ERR_AUTH_UNKNOWN_SESSION' });
      t.is(await status(other), 200);

      await phone.revokeSession(listed[1].sessionId);
      t.is(await status(laptop), 401);
      t.is(await status(phone), 200);
      t.deepEqual(
        (await phone.listSessions()).map((s) => s.userAgent),
        ['phone-agent'],
      );

      const tablet = device(base, 'tablet-agent');
      await tablet.login(user, 'account password');
      const phoneToken = phone.bearerToken!;
      await phone.logoutEverywhere();
      t.false(phone.loggedIn);
      t.is(await status(tablet), 401);
      t.is((await fetch(`${base}/me`, { headers: { authorization: `Bearer ${phoneToken}` } })).status, 401);

      // Deleting needs the current password; a wrong one changes nothing.
      const again = device(base, 'laptop-agent');
      await again.login(user, 'account password');
      const bystander = device(base, 'bystander-agent');
      await bystander.login(user, 'account password');
      await t.throwsAsync(again.deleteAccount('wrong password'), { instanceOf: InvalidLoginError });
      t.is(await status(bystander), 200);
      await again.deleteAccount('account password');
      t.false(again.loggedIn);
      t.is(await status(bystander), 401);
      await t.throwsAsync(device(base, 'x').login(user, 'account password'), { instanceOf: InvalidLoginError });
      t.is(await status(other), 200);
      await new Promise((resolve) => setImmediate(resolve));
      t.deepEqual(deleted, [{ username: user, address: '127.0.0.1' }]);
      // The name is free again.
      await t.notThrowsAsync(device(base, 'new').register(user, 'a new owner'));
    });
  }
}

test('last seen moves when a session is used a minute later; deleting with an old session needs a fresh login', async (t) => {
  let now = Date.now();
  const service = createAuthService({
    serverSetup: ServerSetup.generate(),
    store: new MemoryStore({ clock: () => now }),
    sealKey: SecretKey.generate(),
    clock: () => now,
  });
  const base = await mounts.fastify(t, service);
  const c = device(base, 'agent');
  await c.register('seen', 'seen password');
  await c.login('seen', 'seen password');
  const [first] = await c.listSessions();
  now += 2 * 60_000;
  t.is(await status(c), 200);
  const [later] = await c.listSessions();
  t.is(later.lastSeenAt, now);
  t.true(later.lastSeenAt > first.lastSeenAt);
  now += 10 * 60_000;
  const stale = await c.fetch('/account/delete', { method: 'POST' });
  t.is(stale.status, 403);
  t.is(((await stale.json()) as { error: { code: string } }).error.code, 'ERR_AUTH_REAUTHENTICATE');
  t.is((await c.listSessions()).length, 1);
});

test('a store without session records answers the account routes with 501 ERR_AUTH_UNSUPPORTED', async (t) => {
  const store = new MemoryStore();
  for (const method of ['recordSession', 'listSessions', 'deleteUser']) Object.defineProperty(store, method, { value: undefined });
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate() });
  const base = await mounts.fastify(t, service);
  const c = device(base, 'agent');
  await c.register('bare', 'bare password');
  await c.login('bare', 'bare password');
  await t.throwsAsync(c.listSessions(), { code: 'ERR_AUTH_UNSUPPORTED' });
  await t.throwsAsync(c.deleteAccount('bare password'), { code: 'ERR_AUTH_UNSUPPORTED' });
  t.is(await status(c), 200);
});

test("deleting an account clears the name's limits: with one registration per name allowed, it can be registered again at once", async (t) => {
  const service = createAuthService({
    serverSetup: ServerSetup.generate(),
    store: new MemoryStore(),
    sealKey: SecretKey.generate(),
    rateLimit: { registerPerUser: 1 },
  });
  const base = await mounts.express(t, service);
  const c = device(base, 'agent');
  await c.register('once', 'once password');
  await t.throwsAsync(device(base, 'agent').register('once', 'again password'), { code: 'ERR_AUTH_RATE_LIMITED' });
  await c.login('once', 'once password');
  await c.deleteAccount('once password');
  await t.notThrowsAsync(device(base, 'agent').register('once', 'a new owner'));
});
