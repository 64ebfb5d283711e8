/**
 * keyward/fastify inside an application that has its own parsers, limits,
 * prefixes and hooks, over real HTTP.
 */

import { Writable } from 'node:stream';
import test from 'ava';
import Fastify, { type FastifyInstance } from 'fastify';
import { keywardAuth, withAuth } from '../src/fastify/index';
import { type AuthService, createAuthService, MemoryStore, SecretKey, ServerSetup } from '../src/index';
import { addedBodyRefused, bodiesVerify, signedUser } from './support/http-attacks';

async function start(build: (app: FastifyInstance, service: AuthService) => Promise<void> | void, app = Fastify({ bodyLimit: 1024 * 1024 })) {
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate() });
  await build(app, service);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base, service };
}

/** The application's own parsers: JSON marked as its own, forms, bytes. */
function ownParsers(app: FastifyInstance) {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, { parsedBy: 'app', value: JSON.parse(body as string) });
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}

test('the prefix applies to the auth routes; the application keeps its JSON parser and its body limit', async (t) => {
  const { app, base } = await start(async (app, service) => {
    ownParsers(app);
    await app.register(keywardAuth, { service, prefix: '/auth', bodyLimit: 4096 });
    app.post('/api/echo', async (request) => ({ body: request.body }));
  });
  t.teardown(() => app.close());
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const big = { blob: 'x'.repeat(100_000) };
  const echoed = await post('/api/echo', big);
  t.is(echoed.status, 200, 'a 100 KB body on an application route: the app allows 1 MiB');
  t.deepEqual(await echoed.json(), { body: { parsedBy: 'app', value: big } }, "the app's own JSON parser ran");

  t.is((await post('/login/start', { username: 'a', request: 'AAAA' })).status, 404, 'nothing at the root');
  const prefixed = await post('/auth/login/start', { username: 'a', request: 'AAAA' });
  t.is(prefixed.status, 401, 'the auth routes answer under the prefix');
  t.is((await post('/auth/login/start', { username: 'a', request: 'A'.repeat(5000) })).status, 413, "the auth routes' own limit");
});

test('requirePop in onRequest and in preHandler both verify the raw bytes of every content type', async (t) => {
  const { app, base } = await start(async (app, service) => {
    ownParsers(app);
    await app.register(keywardAuth, { service });
    const handler = withAuth(async (request) => ({ user: request.auth.username }));
    app.post('/api/pre-handler', { preHandler: app.requirePop }, handler);
    app.post('/api/on-request', { onRequest: app.requirePop }, handler);
    app.post('/api/pre-validation', { preValidation: [app.requirePop] }, handler);
  });
  t.teardown(() => app.close());
  const user = await signedUser(base);
  for (const path of ['/api/pre-handler', '/api/on-request', '/api/pre-validation']) {
    await bodiesVerify(t, user, path);
    await addedBodyRefused(t, user, path);
  }
  // In onRequest, a request without a bearer is refused before its body is parsed.
  const early = await fetch(`${base}/api/on-request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
  t.is(early.status, 401);
  t.is(((await early.json()) as { error: { code: string } }).error.code, 'ERR_POP_NO_SESSION');
});

test('requirePop as an instance-wide hook verifies bodiless requests and refuses bodies it cannot see', async (t) => {
  const { app, base } = await start(async (app, service) => {
    ownParsers(app);
    await app.register(keywardAuth, { service });
    await app.register(async (scope) => {
      scope.addHook('preHandler', app.requirePop);
      scope.get('/api/me', async (request) => ({ user: request.auth?.username }));
      scope.post('/api/transfer', async (request) => ({ user: request.auth?.username }));
    });
    app.get(
      '/api/forgot',
      withAuth(async (request) => ({ user: request.auth.username })),
    );
  });
  t.teardown(() => app.close());
  const user = await signedUser(base);
  const me = await user.client.fetch('/api/me');
  t.is(me.status, 200);
  t.deepEqual(await me.json(), { user: user.username });
  await addedBodyRefused(t, user, '/api/transfer');
  const withBody = await user.client.fetch('/api/transfer', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'signed, but unseen' });
  t.is(withBody.status, 401, 'refused: the hook never saw the bytes');
  t.is((await user.client.fetch('/api/forgot')).status, 500, 'withAuth on a route without requirePop does not run');
});

test('request.auth in JSON and in a log line holds no token and no key', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  let key = '';
  const { app, base } = await start(
    async (app, service) => {
      await app.register(keywardAuth, { service });
      app.get(
        '/api/me',
        { preHandler: app.requirePop },
        withAuth(async (request) => {
          key = Buffer.from(request.auth.popKey.exportBytes()).toString('base64url');
          request.log.info({ auth: request.auth }, 'signed request');
          return { json: JSON.stringify(request.auth) };
        }),
      );
    },
    Fastify({ logger: { level: 'info', stream } }),
  );
  t.teardown(() => app.close());
  const user = await signedUser(base);
  const response = await user.client.fetch('/api/me');
  t.is(response.status, 200);
  const { json } = (await response.json()) as { json: string };
  const token = user.client.bearerToken!;
  const hexKey = Buffer.from(key, 'base64url').toString('hex');
  const logLine = lines.find((line) => line.includes('signed request'));
  t.truthy(logLine);
  for (const [where, text] of [
    ['JSON.stringify(request.auth)', json],
    ['request.log', logLine!],
  ] as const) {
    t.true(text.includes(user.username), `${where} still says who`);
    t.false(text.includes(token), `${where} holds the bearer token`);
    t.false(text.includes(token.slice(-22)), `${where} holds part of the bearer token`);
    t.false(text.includes(key) || text.includes(hexKey), `${where} holds the key`);
  }
});

test('the raw-body copy is the bytes as sent: a large multi-byte text body and an invalid UTF-8 one, both read as text by the app, verify', async (t) => {
  const { app, base } = await start(async (app, service) => {
    await app.register(keywardAuth, { service });
    // Fastify's own text/plain parser reads a string (the stream gets an encoding).
    app.post(
      '/api/text',
      { preHandler: app.requirePop },
      withAuth(async (req) => ({ length: (req.body as string).length })),
    );
  });
  t.teardown(() => app.close());
  const user = await signedUser(base);
  // Far more than one chunk, with characters split across chunk boundaries somewhere.
  const text = 'é€𝄞 pay bob '.repeat(20_000);
  const ok = await user.client.fetch('/api/text', { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: text });
  t.is(ok.status, 200);
  t.deepEqual(await ok.json(), { length: text.length });
  const invalid = new Uint8Array([0x70, 0x61, 0x79, 0xff, 0xfe, 0x20, 0xc3]);
  // The app reads it lossily as text, but the signature covers the bytes sent, and those are what is checked.
  const raw = await user.client.fetch('/api/text', { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: invalid });
  t.is(raw.status, 200);
  const tampered = await user.tampered('/api/text', { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: invalid }, (init) => ({
    ...init,
    body: new Uint8Array([...invalid.slice(0, -1), 0xc4]),
  }));
  t.is(tampered.status, 401);
});
