/**
 * Refreshing a session without the password, through real HTTP: the token is
 * renewed for the same key, up to the absolute maximum from the login; a
 * logout after a refresh ends the old token too.
 */

import test from 'ava';
import { createClient } from '../src/client/index';
import { createAuthService, MemoryStore, SecretKey, ServerSetup } from '../src/index';
import { adapters, unique } from './auth-store-adapters';
import { fast } from './helpers';
import { mounts } from './support/mounts';

for (const [kind, storeName] of (['fastify', 'express'] as const).flatMap((k) => ['memory', 'sqlite', 'postgres+redis'].map((s) => [k, s] as const))) {
  test(`${kind} + ${storeName}: refresh renews the session up to maxSessionMs from the login; logout ends every token of it`, async (t) => {
    const start = Date.now();
    let now = start;
    const { store, cleanup } = adapters[storeName](() => now);
    t.teardown(cleanup);
    const service = createAuthService({
      serverSetup: ServerSetup.generate(),
      store,
      sealKey: SecretKey.generate(),
      clock: () => now,
      sessionTtlMs: 60_000,
      maxSessionMs: 150_000,
    });
    const base = await mounts[kind](t, service);
    const c = createClient({ baseUrl: base, keyStretching: fast });
    const user = unique(`refresh-${kind}-${storeName.replace(/[^a-z]/g, '')}`);
    await c.register(user, 'refresh password');
    const { expiresAt: first } = await c.login(user, 'refresh password');
    t.is(first, start + 60_000);
    const firstToken = c.bearerToken!;

    now = start + 50_000;
    t.deepEqual(await c.refresh(), { expiresAt: start + 110_000 });
    t.not(c.bearerToken, firstToken);
    t.is((await c.listSessions())[0].expiresAt, start + 110_000);
    now = start + 100_000; // past the first token's expiry
    t.is((await c.fetch('/me')).status, 200);

    // Never past maxSessionMs from the login, however often refreshed.
    t.deepEqual(await c.refresh(), { expiresAt: start + 150_000 });
    now = start + 149_000;
    t.is((await c.fetch('/me')).status, 200);
    now = start + 150_001;
    t.is((await c.fetch('/me')).status, 401);
    await t.throwsAsync(c.refresh(), { code: 'ERR_POP_NO_SESSION' });
  });
}

test('a logout after a refresh ends the tokens from before it too', async (t) => {
  const { store, cleanup } = adapters.memory();
  t.teardown(cleanup);
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate() });
  const base = await mounts.fastify(t, service);
  const c = createClient({ baseUrl: base, keyStretching: fast });
  await c.register('twice', 'twice password');
  await c.login('twice', 'twice password');
  const session = (await c.listSessions())[0];
  const before = c.bearerToken!;
  await c.refresh();
  await c.logout();
  // The old token, signed with the same key, names the revoked session.
  const verify = service.verify({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${before}` } });
  await t.throwsAsync(verify, { code: 'ERR_POP_NO_SESSION' });
  t.is(session.username, 'twice');
});

test('keyward/web refreshes too (its code under Node 20), keeping its key', async (t) => {
  const { createWebClient } = await import('../src/web/index');
  const service = createAuthService({
    serverSetup: ServerSetup.generate(),
    store: adapters.memory().store,
    sealKey: SecretKey.generate(),
    sessionTtlMs: 60_000,
  });
  const base = await mounts.fastify(t, service);
  const web = createWebClient({ baseUrl: base });
  await web.register('webrefresh', 'web refresh password');
  const { expiresAt } = await web.login('webrefresh', 'web refresh password');
  await new Promise((resolve) => setTimeout(resolve, 5));
  const before = web.bearerToken;
  const refreshed = await web.refresh();
  t.true(refreshed.expiresAt > expiresAt);
  t.not(web.bearerToken, before);
  t.is((await web.fetch('/me')).status, 200);
});

/** A fetch whose requests carry `agent` as their User-Agent, as a browser's would. */
const withUserAgent =
  (agent: string): typeof fetch =>
  (url, init) => {
    const headers = new Headers(init?.headers);
    headers.set('user-agent', agent);
    return fetch(url, { ...init, headers });
  };

for (const storeName of Object.keys(adapters)) {
  test(`${storeName}: a refresh updates the session's own record (address and user agent kept) without listing the user's sessions`, async (t) => {
    let now = Date.now();
    const { store, cleanup } = adapters[storeName](() => now);
    t.teardown(cleanup);
    // The real store, counting the calls that read every session of a user.
    let listings = 0;
    const list = store.listSessions!.bind(store);
    store.listSessions = (username, nowMs) => {
      listings += 1;
      return list(username, nowMs);
    };
    const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate(), clock: () => now });
    const base = await mounts.express(t, service);
    const c = createClient({ baseUrl: base, keyStretching: fast, fetch: withUserAgent('refreshing-agent') });
    const user = unique(`kept-${storeName.replace(/[^a-z]/g, '')}`);
    await c.register(user, 'kept password');
    await c.login(user, 'kept password');
    const [before] = await c.listSessions();
    t.is(before.userAgent, 'refreshing-agent');
    t.truthy(before.address);

    now += 10_000;
    const { expiresAt } = await c.refresh();
    t.true(expiresAt > before.expiresAt);
    t.is(listings, 1, 'only the listing above read the sessions');
    t.deepEqual(await c.listSessions(), [{ ...before, expiresAt, lastSeenAt: now }]);
  });
}

test('a store without extendSession keeps the address and user agent through a listing; a session with no record yet is recorded', async (t) => {
  const store = new MemoryStore();
  Object.defineProperty(store, 'extendSession', { value: undefined, configurable: true });
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate() });
  const base = await mounts.fastify(t, service);
  const client = () => createClient({ baseUrl: base, keyStretching: fast, fetch: withUserAgent('older-store-agent') });
  const user = unique('older-store');
  const c = client();
  await c.register(user, 'older store password');
  await c.login(user, 'older store password');
  const [before] = await c.listSessions();
  await c.refresh();
  const [after] = await c.listSessions();
  t.is(after.userAgent, 'older-store-agent');
  t.is(after.address, before.address);

  // A login the store did not record (as before it kept records): the refresh records it.
  Object.defineProperty(store, 'extendSession', { value: MemoryStore.prototype.extendSession, configurable: true });
  Object.defineProperty(store, 'recordSession', { value: undefined, configurable: true });
  const unrecorded = client();
  await unrecorded.login(user, 'older store password');
  Object.defineProperty(store, 'recordSession', { value: MemoryStore.prototype.recordSession, configurable: true });
  t.is((await c.listSessions()).length, 1);
  const { expiresAt } = await unrecorded.refresh();
  const listed = await unrecorded.listSessions();
  t.is(listed.length, 2);
  t.is(listed.find((s) => s.current)?.expiresAt, expiresAt);
});
