/**
 * keyward/client against an application that mounts keyward under a prefix
 * and its API under another path, over real HTTP.
 */
import test from 'ava';
import Fastify from 'fastify';
import { createClient } from '../src/client/index';
import { keywardAuth, withAuth } from '../src/fastify/index';
import { createAuthService, InvalidArgumentError, MemoryStore, SecretKey, ServerSetup } from '../src/index';
import { fast } from './helpers';

async function server() {
  const setup = ServerSetup.generate();
  const service = createAuthService({ serverSetup: setup, store: new MemoryStore(), sealKey: SecretKey.generate() });
  const app = Fastify();
  await app.register(keywardAuth, { service, prefix: '/auth' });
  await app.register(
    async (api) => {
      api.get(
        '/me',
        { preHandler: app.requirePop },
        withAuth(async (request) => ({ user: request.auth.username, url: request.url })),
      );
      api.post(
        '/transfer',
        { onRequest: app.requirePop },
        withAuth(async (request) => ({ user: request.auth.username, body: request.body })),
      );
    },
    { prefix: '/api/v1' },
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => app.close());
  return { base, setup };
}
/** A client of `server()`'s API under /api/v1 and keyward under /auth, telling `seen` of every request before it goes. */
function apiClient(base: string, setup: ServerSetup, seen: (url: string | URL | Request, init?: RequestInit) => unknown) {
  return createClient({
    baseUrl: `${base}/api/v1/`,
    authBaseUrl: `${base}/auth`,
    keyStretching: fast,
    serverPublicKey: setup.publicKey,
    fetch: (url, init) => {
      seen(url, init);
      return fetch(url, init);
    },
  });
}
const closers: Array<() => Promise<unknown>> = [];
test.after.always(() => Promise.all(closers.map((close) => close())));

test('baseUrl with a path, auth routes under another base; the signed target is the one sent, query included', async (t) => {
  const { base, setup } = await server();
  const sent: string[] = [];
  const client = apiClient(base, setup, (url) => sent.push(String(url)));
  await client.register('alice', 'pw');
  await client.login('alice', 'pw');
  t.deepEqual(sent, [`${base}/auth/register/start`, `${base}/auth/register/finish`, `${base}/auth/login/start`, `${base}/auth/login/finish`]);

  const me = await client.fetch('/me?q=a b&x=ü&y=%41');
  t.is(me.status, 200);
  t.deepEqual(await me.json(), { user: 'alice', url: '/api/v1/me?q=a%20b&x=%C3%BC&y=%41' });
  const transfer = await client.fetch('/transfer', { method: 'POST', body: JSON.stringify({ to: 'bob' }) });
  t.deepEqual(await transfer.json(), { user: 'alice', body: { to: 'bob' } });

  await client.logout();
  t.is(sent.at(-1), `${base}/auth/logout`);
  t.false(client.loggedIn);
});

test('base URLs are checked', (t) => {
  for (const baseUrl of ['not a url', 'ftp://example.com', 'https://example.com/api?x=1', 'https://example.com/#f', 'https://u:p@example.com']) {
    t.throws(() => createClient({ baseUrl }), { instanceOf: InvalidArgumentError }, baseUrl);
  }
  t.throws(() => createClient({ baseUrl: 'https://example.com', authBaseUrl: 'nope' }), { instanceOf: InvalidArgumentError });
});

test('a server clock ten minutes ahead: the first signed request is refused as stale and signed again once with the server time; later ones need no retry', async (t) => {
  const service = createAuthService({
    serverSetup: ServerSetup.generate(),
    store: new MemoryStore(),
    sealKey: SecretKey.generate(),
    clock: () => Date.now() + 10 * 60 * 1000,
  });
  const app = Fastify();
  await app.register(keywardAuth, { service });
  app.get(
    '/me',
    { preHandler: app.requirePop },
    withAuth(async (request) => ({ user: request.auth.username })),
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => app.close());
  const sent: string[] = [];
  const client = createClient({
    baseUrl: base,
    keyStretching: fast,
    fetch: (url, init) => {
      sent.push(String(url));
      return fetch(url, init);
    },
  });
  await client.register('skewed', 'pw long enough');
  await client.login('skewed', 'pw long enough');
  const before = sent.length;
  const first = await client.fetch('/me');
  t.is(first.status, 200);
  t.is(sent.length - before, 2);
  t.deepEqual(await (await client.fetch('/me')).json(), { user: 'skewed' });
  t.is(sent.length - before, 3);
});

test('a path with a fragment is refused, even an empty one, before the login check; an empty body goes without a content type', async (t) => {
  const { base, setup } = await server();
  const types: Array<string | null> = [];
  const client = apiClient(base, setup, (_url, init) => types.push(new Headers(init?.headers).get('content-type')));
  for (const path of ['/me#', '/me#top']) {
    await t.throwsAsync(client.fetch(path), { instanceOf: InvalidArgumentError }, `${path} before login`);
  }
  await client.register('fragments', 'pw');
  await client.login('fragments', 'pw');
  for (const path of ['/me#', '/me#top']) {
    await t.throwsAsync(client.fetch(path), { instanceOf: InvalidArgumentError }, `${path} after login`);
  }
  // A JSON content type with no body is a 400 from Fastify's parser.
  const empty = await client.fetch('/transfer', { method: 'POST' });
  t.is(empty.status, 200);
  t.is(types.at(-1), null);
});
