/**
 * Lifecycle events and the registration veto, through real HTTP with
 * keyward/client: what each event carries, that listeners can neither delay
 * nor fail a request, that a vetoed name is stored at neither step, and what
 * the Fastify plugin logs through the application's logger.
 */

import { Writable } from 'node:stream';
import test from 'ava';
import Fastify from 'fastify';
import { createClient } from '../src/client/index';
import { keywardAuth } from '../src/fastify/index';
import {
  type AuthEventName,
  type AuthEvents,
  type AuthServiceOptions,
  createAuthService,
  InvalidArgumentError,
  MemoryStore,
  SecretKey,
  ServerSetup,
} from '../src/index';
import { fast } from './helpers';

async function world(t: import('ava').ExecutionContext, options: Partial<AuthServiceOptions> = {}, logs?: string[]) {
  const store = new MemoryStore();
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store, sealKey: SecretKey.generate(), ...options });
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs?.push(chunk.toString());
      done();
    },
  });
  const app = Fastify({ logger: logs === undefined ? false : { level: 'info', stream } });
  await app.register(keywardAuth, { service });
  app.get('/me', { preHandler: app.requirePop }, async () => ({ ok: true }));
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  return {
    service,
    store,
    client: () => createClient({ baseUrl: base, keyStretching: fast }),
    // A client whose login finalization is changed on the way, as a man in the middle would.
    tampering: () => createClient({ baseUrl: base, keyStretching: fast, fetch: tamper }),
  };
}

const tamper: typeof fetch = (url, init) => {
  if (String(url).endsWith('/login/finish') && typeof init?.body === 'string') {
    const body = JSON.parse(init.body) as { finalization: string };
    body.finalization = `${body.finalization[0] === 'A' ? 'B' : 'A'}${body.finalization.slice(1)}`;
    return fetch(url, { ...init, body: JSON.stringify(body) });
  }
  return fetch(url, init);
};

/** Every event of the service, in order, once `count` have arrived. */
function record(service: ReturnType<typeof createAuthService>) {
  const seen: { name: AuthEventName; event: AuthEvents[AuthEventName] }[] = [];
  for (const name of ['registered', 'loggedIn', 'loginFailed', 'loggedOut'] as const) service.on(name, (event) => seen.push({ name, event }));
  const settle = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
  return { seen, settle };
}

test('register, log in, a tampered login, log out: each event with what it carries', async (t) => {
  const { service, client, tampering } = await world(t);
  const { seen, settle } = record(service);
  const c = client();
  await c.register('eve', 'eve password long');
  const { expiresAt } = await c.login('eve', 'eve password long');
  // A wrong password never reaches the server's finish (the client finds it): no event.
  await t.throwsAsync(client().login('eve', 'not her password'));
  await t.throwsAsync(tampering().login('eve', 'eve password long'), { code: 'ERR_AUTH_LOGIN_FAILED' });
  await c.logout();
  await settle();
  t.deepEqual(
    seen.map((s) => s.name),
    ['registered', 'loggedIn', 'loginFailed', 'loggedOut'],
  );
  t.deepEqual(seen[0].event, { username: 'eve', address: '127.0.0.1' });
  const loggedIn = seen[1].event as AuthEvents['loggedIn'];
  t.is(loggedIn.username, 'eve');
  t.is(loggedIn.expiresAt, expiresAt);
  t.is(loggedIn.address, '127.0.0.1');
  t.regex(loggedIn.sessionId, /^[A-Za-z0-9_-]{22}$/);
  t.deepEqual(seen[2].event, { username: 'eve', address: '127.0.0.1', code: 'ERR_AUTH_LOGIN_FAILED' });
  t.deepEqual(seen[3].event, { username: 'eve', sessionId: loggedIn.sessionId });
  t.true(Object.isFrozen(seen[0].event));
});

test('too many failures: loginFailed with ERR_AUTH_RATE_LIMITED', async (t) => {
  const { service, client, tampering } = await world(t, { rateLimit: { perUser: 2 } });
  const { seen, settle } = record(service);
  await client().register('frank', 'frank password long');
  await t.throwsAsync(client().login('frank', 'wrong'));
  await t.throwsAsync(tampering().login('frank', 'frank password long'), { code: 'ERR_AUTH_LOGIN_FAILED' });
  await t.throwsAsync(client().login('frank', 'frank password long'), { code: 'ERR_AUTH_RATE_LIMITED' });
  await settle();
  t.deepEqual(
    seen.filter((s) => s.name === 'loginFailed').map((s) => (s.event as AuthEvents['loginFailed']).code),
    ['ERR_AUTH_LOGIN_FAILED', 'ERR_AUTH_RATE_LIMITED'],
  );
});

test('a listener that throws or rejects fails nothing: the login goes through and the error goes to onEventError', async (t) => {
  const errors: [string, AuthEventName][] = [];
  const { service, client } = await world(t, { onEventError: (error, event) => errors.push([(error as Error).message, event]) });
  service.on('registered', () => {
    throw new Error('audit log down');
  });
  service.on('loggedIn', async () => {
    throw new Error('mailer down');
  });
  const c = client();
  await c.register('gina', 'gina password long');
  await c.login('gina', 'gina password long');
  t.true(c.loggedIn);
  // The listeners run after the response on a busy machine: wait for both errors (bounded), then compare.
  for (let i = 0; i < 500 && errors.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.deepEqual(errors, [
    ['audit log down', 'registered'],
    ['mailer down', 'loggedIn'],
  ]);
});

test('beforeRegister vetoes a name with 403 ERR_AUTH_REGISTRATION_REFUSED, at the start and again at the finish; nothing is stored', async (t) => {
  let refuseAtFinish = false;
  const asked: { username: string; address?: string }[] = [];
  const { service, store, client } = await world(t, {
    hooks: {
      beforeRegister: async (attempt) => {
        asked.push(attempt);
        return !(attempt.username === 'mallory' || (refuseAtFinish && attempt.username === 'late'));
      },
    },
  });
  const { seen, settle } = record(service);
  await t.throwsAsync(client().register('mallory', 'mallory password'), { code: 'ERR_AUTH_REGISTRATION_REFUSED' });
  t.is(await store.getPasswordFile('mallory'), undefined);
  // Allowed at the start, refused by the time the upload arrives.
  const c = client();
  const original = service.registerStart.bind(service);
  service.registerStart = async (...args) => {
    const answer = await original(...args);
    refuseAtFinish = true;
    return answer;
  };
  await t.throwsAsync(c.register('late', 'late password long'), { code: 'ERR_AUTH_REGISTRATION_REFUSED' });
  t.is(await store.getPasswordFile('late'), undefined);
  await settle();
  t.deepEqual(seen, []);
  t.deepEqual(asked[0], { username: 'mallory', address: '127.0.0.1' });
  t.deepEqual(
    asked.map((a) => a.username),
    ['mallory', 'late', 'late'],
  );
});

test('the Fastify plugin logs auth requests through the application logger: route and code, no token, no password', async (t) => {
  const logs: string[] = [];
  const { client, tampering } = await world(t, {}, logs);
  const c = client();
  await c.register('hana', 'hana password long');
  await c.login('hana', 'hana password long');
  await t.throwsAsync(tampering().login('hana', 'hana password long'));
  const lines = logs.map((l) => JSON.parse(l) as { msg: string; keyward?: string; code?: string });
  t.true(lines.some((l) => l.msg === 'keyward auth request done' && l.keyward === '/login/finish'));
  t.true(lines.some((l) => l.msg === 'keyward auth request refused' && l.keyward === '/login/finish' && l.code === 'ERR_AUTH_LOGIN_FAILED'));
  const all = logs.join('\n');
  t.false(all.includes('hana password long'));
  t.false(all.includes(c.bearerToken!));
});

test('on() refuses an unknown event and a listener that is not a function; its return value stops listening', async (t) => {
  const { service, client } = await world(t);
  t.throws(() => service.on('loggedin' as AuthEventName, () => {}), { instanceOf: InvalidArgumentError });
  t.throws(() => service.on('loggedIn', 'no' as unknown as () => void), { instanceOf: InvalidArgumentError });
  let calls = 0;
  const stop = service.on('registered', () => void calls++);
  await client().register('ivy', 'ivy password long');
  stop();
  await client().register('jay', 'jay password long');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(calls, 1);
  t.throws(
    () =>
      createAuthService({
        serverSetup: ServerSetup.generate(),
        store: new MemoryStore(),
        sealKey: SecretKey.generate(),
        hooks: { beforeRegister: 1 as never },
      }),
    {
      instanceOf: InvalidArgumentError,
    },
  );
});
