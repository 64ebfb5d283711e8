/**
 * keyward/express inside an application that has its own parsers (or none),
 * limits and mount points, over real HTTP.
 */

import type { AddressInfo } from 'node:net';
import test from 'ava';
import express, { type Express } from 'express';
import { keepRawBody, keywardErrorHandler, keywardRouter, requirePop, withAuth } from '../src/express/index';
import { type AuthService, createAuthService, MemoryStore, SecretKey, ServerSetup } from '../src/index';
import { addedBodyRefused, bodiesVerify, signedUser } from './support/http-attacks';

async function start(build: (app: Express, service: AuthService) => void) {
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate() });
  const app = express();
  build(app, service);
  const listener = await new Promise<ReturnType<Express['listen']>>((resolve) => {
    const l = app.listen(0, '127.0.0.1', () => resolve(l));
  });
  const { port } = listener.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => listener.close(() => r())) };
}

// A hang fails the test instead of stalling it: the bug these tests pin down was requests that never answered.
const within = () => ({ signal: AbortSignal.timeout(20_000) });
const postJson = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(20_000) });

test('express.json() before the router: nothing hangs, auth works, app routes keep their limit; signed bodies it read unkept are refused', async (t) => {
  const { base, close } = await start((app, service) => {
    app.use(express.json({ limit: '1mb' }));
    app.use(keywardRouter({ service, bodyLimit: 4096 }));
    app.post('/api/echo', (req, res) => void res.json({ body: req.body }));
    app.all(
      '/api/transfer',
      requirePop(service),
      withAuth((req, res) => void res.json({ user: req.auth.username })),
    );
    app.use(keywardErrorHandler());
  });
  t.teardown(close);
  const big = { blob: 'x'.repeat(100_000) };
  const echoed = await postJson(`${base}/api/echo`, big);
  t.is(echoed.status, 200);
  t.deepEqual(await echoed.json(), { body: big });
  t.is((await postJson(`${base}/login/start`, { username: 'a', request: 'AAAA' })).status, 401, 'an auth route reads the parsed body');

  const user = await signedUser(base);
  const bodiless = await user.client.fetch('/api/transfer', { method: 'POST', ...within() });
  t.is(bodiless.status, 200, 'a signed request without a body verifies');
  await addedBodyRefused(t, user, '/api/transfer');
  const unkept = await user.client.fetch('/api/transfer', { method: 'POST', body: JSON.stringify({ to: 'bob' }), ...within() });
  t.is(unkept.status, 401, 'refused: express.json() read the bytes and did not keep them');
  t.regex(unkept.headers.get('www-authenticate') ?? '', /^Bearer realm="keyward"/);
});

test('no parser in the application: requirePop reads every content type itself, and the router caps only its routes', async (t) => {
  const { base, close } = await start((app, service) => {
    app.use(keywardRouter({ service, bodyLimit: 4096 }));
    app.post('/api/big', express.json({ limit: '1mb' }), (req, res) => void res.json({ size: JSON.stringify(req.body).length }));
    app.post(
      '/api/transfer',
      requirePop(service),
      withAuth((req, res) => void res.json({ user: req.auth.username, body: req.body })),
    );
    app.get(
      '/api/forgot',
      withAuth((req, res) => void res.json({ user: req.auth.username })),
    );
    app.use(keywardErrorHandler());
    app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ handledBy: 'app' }));
  });
  t.teardown(close);
  const big = await postJson(`${base}/api/big`, { blob: 'x'.repeat(100_000) });
  t.is(big.status, 200, "the router's 4 KiB limit is not the application's");
  const user = await signedUser(base);
  await bodiesVerify(t, user, '/api/transfer');
  await addedBodyRefused(t, user, '/api/transfer');
  const parsed = await user.client.fetch('/api/transfer', { method: 'POST', body: JSON.stringify({ to: 'bob' }), ...within() });
  t.deepEqual(await parsed.json(), { user: user.username, body: { to: 'bob' } }, 'JSON is parsed after it is kept');
  const forgot = await user.client.fetch('/api/forgot', within());
  t.deepEqual(
    { status: forgot.status, body: await forgot.json() },
    { status: 500, body: { handledBy: 'app' } },
    "withAuth without requirePop: an error, and not keyward's to answer",
  );
});

test("the application's own parsers with verify: keepRawBody: every content type verifies; router under a path", async (t) => {
  const { base, close } = await start((app, service) => {
    app.use(express.json({ verify: keepRawBody }));
    app.use(express.urlencoded({ verify: keepRawBody }));
    app.use(express.text({ verify: keepRawBody }));
    app.use(express.raw({ verify: keepRawBody }));
    app.use('/auth', keywardRouter({ service }));
    app.post(
      '/api/v1/transfer',
      requirePop(service),
      withAuth((req, res) => void res.json({ user: req.auth.username })),
    );
    app.use(keywardErrorHandler());
  });
  t.teardown(close);
  t.is((await postJson(`${base}/login/start`, { username: 'a', request: 'AAAA' })).status, 404);
  const user = await signedUser(`${base}/api/v1`, `${base}/auth`);
  await bodiesVerify(t, user, '/transfer');
  await addedBodyRefused(t, user, '/transfer');
  await user.client.logout();
  t.false(user.client.loggedIn);
});
