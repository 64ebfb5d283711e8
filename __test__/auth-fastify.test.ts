import test from 'ava';
import Fastify from 'fastify';
import { createClient } from '../src/client/index';
import { keywardAuth } from '../src/fastify/index';
import { AuthError, createAuthService, InvalidLoginError, MemoryStore, PopError, SecretKey, ServerSetup } from '../src/index';
import { fast } from './helpers';
import { popOverHttp } from './support/http-attacks';

async function server(options?: { rateLimit?: { perUser?: number } }) {
  const setup = ServerSetup.generate();
  const service = createAuthService({ serverSetup: setup, store: new MemoryStore(), sealKey: SecretKey.generate(), ...options });
  const app = Fastify({ bodyLimit: 1024 * 1024 });
  await app.register(keywardAuth, { service, bodyLimit: 4096 });
  app.post('/api/transfer', { preHandler: app.requirePop }, async (request) => ({ user: request.auth!.username, body: request.body }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, setup, service, baseUrl: address };
}

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

async function status(response: Response) {
  return { status: response.status, code: ((await response.json()) as { error?: { code: string } }).error?.code };
}

test('register, log in, signed request, every PoP failure over real HTTP, logout', async (t) => {
  const { app, setup, baseUrl } = await server();
  t.teardown(() => app.close());
  await popOverHttp(t, baseUrl, setup.publicKey);
});

test('wrong password and unknown user fail alike; existing names are refused; pin is enforced', async (t) => {
  const { app, setup, baseUrl } = await server();
  t.teardown(() => app.close());
  const client = createClient({ baseUrl, keyStretching: fast, serverPublicKey: setup.publicKey });
  await client.register('alice', 'correct horse');
  t.is(await code(client.register('alice', 'other')), 'ERR_AUTH_USER_EXISTS');
  const wrong = await t.throwsAsync(client.login('alice', 'wrong'));
  const unknown = await t.throwsAsync(client.login('mallory', 'whatever'));
  t.true(wrong instanceof InvalidLoginError && unknown instanceof InvalidLoginError);
  t.false(client.loggedIn);

  const pinned = createClient({ baseUrl, keyStretching: fast, serverPublicKey: ServerSetup.generate().publicKey });
  await t.throwsAsync(pinned.login('alice', 'correct horse'));
  t.false(pinned.loggedIn);
});

test('login attempts are rate limited per user', async (t) => {
  const { app, baseUrl } = await server({ rateLimit: { perUser: 3 } });
  t.teardown(() => app.close());
  const client = createClient({ baseUrl, keyStretching: fast });
  for (let i = 0; i < 3; i++) await t.throwsAsync(client.login('bob', 'nope'), { instanceOf: InvalidLoginError });
  const limited = await t.throwsAsync(client.login('bob', 'nope'), { instanceOf: AuthError });
  t.is(limited!.code, 'ERR_AUTH_RATE_LIMITED');
});

test('bad bodies: schema, size, base64url, a tampered or replayed login state', async (t) => {
  const { app, baseUrl, service } = await server();
  t.teardown(() => app.close());
  const post = (path: string, body: unknown) =>
    fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  t.is((await post('/login/start', { username: 'a' })).status, 400);
  t.is((await post('/login/start', { username: 'a', request: 'not base64!' })).status, 400);
  t.is((await post('/login/start', { username: 'a', request: 'A'.repeat(5000) })).status, 413);
  const junk = await post('/login/start', { username: 'a', request: 'AAAA' });
  t.deepEqual(await status(junk), { status: 401, code: 'ERR_AUTH_LOGIN_FAILED' });

  const client = createClient({ baseUrl, keyStretching: fast });
  await client.register('dave', 'pw');
  const { OpaqueClient } = await import('../src/index');
  const opaque = new OpaqueClient({ keyStretching: fast });
  const start = opaque.startLogin('pw');
  const started = await service.loginStart({ username: 'dave', request: Buffer.from(start.request).toString('base64url') });
  const done = await opaque.finishLogin(start.state, 'pw', Buffer.from(started.response, 'base64url'));
  const finalization = Buffer.from(done.finalization).toString('base64url');
  const flipped = started.loginState.slice(0, 10) + (started.loginState[10] === 'A' ? 'B' : 'A') + started.loginState.slice(11);
  t.is(await code(service.loginFinish({ loginState: flipped, finalization })), 'ERR_AUTH_LOGIN_FAILED');
  const session = await service.loginFinish({ loginState: started.loginState, finalization });
  t.truthy(session.token);
  t.is(await code(service.loginFinish({ loginState: started.loginState, finalization })), 'ERR_AUTH_LOGIN_FAILED');
  t.true(new PopError('x', 'ERR_POP_STALE') instanceof Error);
});
