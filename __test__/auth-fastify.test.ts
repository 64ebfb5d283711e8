import test from 'ava';
import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';
import { keywardAuth } from '../src/fastify/index';
import { createClient } from '../src/client/index';
import {
  AuthError,
  InvalidLoginError,
  MemoryStore,
  PopError,
  SecretKey,
  ServerSetup,
  createAuthService,
  derivePopKey,
  signRequest,
} from '../src/index';
import { fast } from './helpers';

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
  const client = createClient({ baseUrl, keyStretching: fast, serverPublicKey: setup.publicKey });
  await client.register('alice', 'correct horse');
  await client.login('alice', 'correct horse');

  const body = JSON.stringify({ to: 'bob', amount: 5 });
  const ok = await client.fetch('/api/transfer?note=rent', { method: 'POST', body });
  t.is(ok.status, 200);
  t.deepEqual(await ok.json(), { user: 'alice', body: { to: 'bob', amount: 5 } });

  // Capture one signed request and replay it.
  let captured: { headers: Headers; body: string } | undefined;
  const spy = createClient({
    baseUrl,
    keyStretching: fast,
    fetch: async (url, init) => {
      if (String(url).endsWith('/api/transfer')) captured = { headers: new Headers(init!.headers), body: String(init!.body) };
      return fetch(url, init);
    },
  });
  await spy.register('carol', 'pw');
  await spy.login('carol', 'pw');
  t.is((await spy.fetch('/api/transfer', { method: 'POST', body })).status, 200);
  const replay = await fetch(`${baseUrl}/api/transfer`, { method: 'POST', headers: captured!.headers, body: captured!.body });
  t.deepEqual(await status(replay), { status: 401, code: 'ERR_POP_REPLAY' });

  // The bearer token alone: unsigned, or signed with a key of the thief's own.
  const token = captured!.headers.get('authorization')!;
  const unsigned = await fetch(`${baseUrl}/api/transfer`, { method: 'POST', headers: { authorization: token, 'content-type': 'application/json' }, body });
  t.deepEqual(await status(unsigned), { status: 401, code: 'ERR_POP_STALE' });
  const thiefKey = derivePopKey(randomBytes(64), 'thief', { bearer: token.slice('Bearer '.length) });
  const forged = signRequest(thiefKey, { method: 'POST', url: '/api/transfer', body });
  const stolen = await fetch(`${baseUrl}/api/transfer`, { method: 'POST', headers: { ...forged, 'content-type': 'application/json' }, body });
  t.deepEqual(await status(stolen), { status: 401, code: 'ERR_POP_BAD_MAC' });

  // A tampered body, and a stale timestamp (re-signed honestly, but 5 minutes old).
  const fresh = new Headers(captured!.headers);
  fresh.set('x-nonce', randomBytes(16).toString('base64url'));
  const tampered = await fetch(`${baseUrl}/api/transfer`, { method: 'POST', headers: fresh, body: body.replace('5', '500') });
  t.deepEqual(await status(tampered), { status: 401, code: 'ERR_POP_BAD_MAC' });
  const stale = new Headers(captured!.headers);
  stale.set('x-ts', String(Date.now() - 300_000));
  stale.set('x-nonce', randomBytes(16).toString('base64url'));
  t.deepEqual(await status(await fetch(`${baseUrl}/api/transfer`, { method: 'POST', headers: stale, body })), { status: 401, code: 'ERR_POP_STALE' });

  // Not a session of this server.
  const bogus = await fetch(`${baseUrl}/api/transfer`, { method: 'POST', headers: { authorization: 'Bearer abc', 'content-type': 'application/json' }, body });
  t.deepEqual(await status(bogus), { status: 401, code: 'ERR_POP_NO_SESSION' });

  // Logout revokes: the same client's next signed request names a dead session.
  await spy.logout();
  const afterLogout = await fetch(`${baseUrl}/api/transfer`, { method: 'POST', headers: { ...forged, 'content-type': 'application/json' }, body });
  t.is(afterLogout.status, 401);
  t.is(await code(client.logout()), undefined);
  t.is(await code(client.fetch('/api/transfer', { method: 'POST', body })), 'ERR_POP_NO_SESSION');
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
  const post = (path: string, body: unknown) => fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
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
