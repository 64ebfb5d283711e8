/**
 * Password reset through a grant the application sends, over real HTTP with
 * keyward/client on both adapters and every store: the new password works,
 * the old one and every session end, and a grant used twice, expired,
 * altered or for another service is refused.
 */

import test from 'ava';
import { createClient } from '../src/client/index';
import { type AuthEvents, createAuthService, InvalidArgumentError, InvalidLoginError, MemoryStore, SecretKey, ServerSetup } from '../src/index';
import { adapters, unique } from './auth-store-adapters';
import { fast } from './helpers';
import { mounts } from './support/mounts';

for (const [mountName, mount] of Object.entries(mounts)) {
  for (const [storeName, make] of Object.entries(adapters)) {
    test(`${mountName} + ${storeName}: a reset grant sets a new password once and ends every session`, async (t) => {
      const { store, cleanup } = make();
      t.teardown(cleanup);
      let now = Date.now();
      const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate(), clock: () => now });
      const resets: AuthEvents['passwordReset'][] = [];
      service.on('passwordReset', (event) => resets.push(event));
      const base = await mount(t, service, { prefix: '/auth' });
      const client = () => createClient({ baseUrl: base, authBaseUrl: `${base}/auth`, keyStretching: fast });
      const user = unique(`reset-${mountName}-${storeName}`.replace(/[^a-z-]/g, ''));
      const owner = client();
      await owner.register(user, 'forgotten password');
      await owner.login(user, 'forgotten password');

      t.is(await service.createResetGrant(`${user}-nobody`), undefined);
      const grant = (await service.createResetGrant(user))!;
      t.regex(grant, /^[A-Za-z0-9_-]+$/);
      t.false(grant.includes(user));

      await client().resetPassword(grant, 'the new password');
      await t.throwsAsync(client().login(user, 'forgotten password'), { instanceOf: InvalidLoginError });
      await t.notThrowsAsync(client().login(user, 'the new password'));
      t.is((await owner.fetch('/me')).status, 401);
      await new Promise((resolve) => setImmediate(resolve));
      t.deepEqual(resets, [{ username: user, address: '127.0.0.1' }]);

      // Once only.
      await t.throwsAsync(client().resetPassword(grant, 'a third password'), { code: 'ERR_AUTH_RESET_GRANT' });
      await t.notThrowsAsync(client().login(user, 'the new password'));
      // Altered, or past its time.
      const altered = `${grant.slice(0, -2)}${grant.endsWith('AA') ? 'AB' : 'AA'}`;
      await t.throwsAsync(client().resetPassword(altered, 'x password'), { code: 'ERR_AUTH_RESET_GRANT' });
      const short = (await service.createResetGrant(user, { ttlMs: 1000 }))!;
      now += 1001;
      await t.throwsAsync(client().resetPassword(short, 'x password'), { code: 'ERR_AUTH_RESET_GRANT' });
      await t.notThrowsAsync(client().login(user, 'the new password'));
    });
  }
}

test("a grant of one service does not open at another's, and bad ttls are refused", async (t) => {
  const store = new MemoryStore();
  const make = () => createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate() });
  const [a, b] = [make(), make()];
  const base = await mounts.fastify(t, b, { prefix: '/auth' });
  await createClient({ baseUrl: base, authBaseUrl: `${base}/auth`, keyStretching: fast }).register('shared', 'shared password');
  const grant = (await a.createResetGrant('shared'))!;
  await t.throwsAsync(createClient({ baseUrl: base, authBaseUrl: `${base}/auth`, keyStretching: fast }).resetPassword(grant, 'n password'), {
    code: 'ERR_AUTH_RESET_GRANT',
  });
  for (const ttlMs of [0, -1, 1.5, 8 * 24 * 3_600_000]) await t.throwsAsync(a.createResetGrant('shared', { ttlMs }), { instanceOf: InvalidArgumentError });
});

test('keyward/web resets a password with a grant too (its code under Node 20: fetch, WebCrypto and serenity as in a browser)', async (t) => {
  const { createWebClient } = await import('../src/web/index');
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate() });
  const base = await mounts.fastify(t, service, { prefix: '/auth' });
  const web = () => createWebClient({ baseUrl: base, authBaseUrl: `${base}/auth` });
  await web().register('webreset', 'old web password');
  const grant = (await service.createResetGrant('webreset'))!;
  await web().resetPassword(grant, 'new web password');
  await t.throwsAsync(web().login('webreset', 'old web password'), { instanceOf: InvalidLoginError });
  await t.notThrowsAsync(web().login('webreset', 'new web password'));
  await t.throwsAsync(web().resetPassword(grant, 'again'), { code: 'ERR_AUTH_RESET_GRANT' });
});
