/**
 * One route table and one error mapping: the same bad request gets the same
 * answer (status, `{ error: { code, message } }`, headers) from keyward/fastify
 * and keyward/express, over real HTTP.
 */

import type { AddressInfo } from 'node:net';
import test from 'ava';
import express from 'express';
import Fastify from 'fastify';
import { keywardErrorHandler, keywardRouter, requirePop } from '../src/express/index';
import { keywardAuth } from '../src/fastify/index';
import { AuthError, type AuthService, createAuthService, MemoryStore, SecretKey, ServerSetup } from '../src/index';
import { signedUser } from './support/http-attacks';

function service(rateLimit?: { perUser: number }): AuthService {
  return createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate(), rateLimit });
}

async function fastifyServer(s: AuthService) {
  const app = Fastify();
  await app.register(keywardAuth, { service: s, bodyLimit: 4096 });
  app.get('/api/me', { preHandler: app.requirePop }, async (request) => ({ user: request.auth?.username }));
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { base, close: () => app.close() };
}

async function expressServer(s: AuthService) {
  const app = express();
  app.use(keywardRouter({ service: s, bodyLimit: 4096 }));
  app.get('/api/me', requirePop(s), (req, res) => void res.json({ user: req.auth?.username }));
  app.use(keywardErrorHandler());
  const listener = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const l = app.listen(0, '127.0.0.1', () => resolve(l));
  });
  const { port } = listener.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => listener.close(() => r())) };
}

const servers = { fastify: fastifyServer, express: expressServer };

async function answer(response: Response) {
  return {
    status: response.status,
    body: (await response.json()) as unknown,
    retryAfter: response.headers.get('retry-after'),
    wwwAuthenticate: response.headers.get('www-authenticate'),
  };
}

const badBodies: Array<[string, string, string, number]> = [
  ['missing field', 'application/json', JSON.stringify({ username: 'a' }), 400],
  ['extra field', 'application/json', JSON.stringify({ username: 'a', request: 'AAAA', extra: 1 }), 400],
  ['a number for a string', 'application/json', JSON.stringify({ username: 7, request: 'AAAA' }), 400],
  ['not base64url', 'application/json', JSON.stringify({ username: 'a', request: 'not base64!' }), 400],
  ['an array', 'application/json', JSON.stringify([1]), 400],
  ['not JSON', 'application/json', '{not json', 400],
  ['text', 'text/plain', 'username=a', 400],
  ['no body', 'application/json', '', 400],
  ['too large', 'application/json', JSON.stringify({ username: 'a', request: 'A'.repeat(5000) }), 413],
];

test('bad bodies: the same status and error body from both frameworks, code ERR_AUTH_BAD_REQUEST', async (t) => {
  const answers: Record<string, unknown[]> = {};
  for (const [name, make] of Object.entries(servers)) {
    const server = await make(service());
    t.teardown(server.close);
    answers[name] = [];
    for (const [what, type, body, status] of badBodies) {
      const got = await answer(await fetch(`${server.base}/login/start`, { method: 'POST', headers: { 'content-type': type }, body }));
      t.is(got.status, status, `${name}: ${what}`);
      t.is((got.body as { error?: { code?: string } }).error?.code, 'ERR_AUTH_BAD_REQUEST', `${name}: ${what}`);
      t.deepEqual(Object.keys(got.body as object), ['error'], `${name}: ${what}: one shape`);
      answers[name].push(got);
    }
  }
  t.deepEqual(answers.fastify, answers.express);
});

test('401 carries WWW-Authenticate with the code; 429 carries Retry-After, from retryAfterMs when the service gives it', async (t) => {
  for (const [name, make] of Object.entries(servers)) {
    const limited = service({ perUser: 1 });
    const server = await make(limited);
    t.teardown(server.close);
    const login = (base: string) =>
      fetch(`${base}/login/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'bob', request: 'AAAA' }),
      });

    const failed = await answer(await login(server.base));
    t.is(failed.status, 401, name);
    t.is(failed.wwwAuthenticate, 'Bearer realm="keyward", error_description="ERR_AUTH_LOGIN_FAILED"', name);

    const tooMany = await answer(await login(server.base));
    t.is(tooMany.status, 429, name);
    t.is((tooMany.body as { error: { code: string } }).error.code, 'ERR_AUTH_RATE_LIMITED', name);
    t.deepEqual(Object.keys((tooMany.body as { error: object }).error), ['code', 'message'], name);
    t.regex(tooMany.retryAfter ?? '', /^[1-9]\d*$/, `${name}: whole seconds`);

    const unsigned = await answer(await fetch(`${server.base}/api/me`));
    t.deepEqual(unsigned.body, { error: { code: 'ERR_POP_NO_SESSION', message: 'no bearer session id' } }, name);
    t.is(unsigned.wwwAuthenticate, 'Bearer realm="keyward", error="invalid_token", error_description="ERR_POP_NO_SESSION"', name);

    // A service that says how long: 12.3 s → 13.
    const real = service();
    const saying = {
      ...real,
      loginStart: async () => {
        throw Object.assign(new AuthError('too many login attempts; try again later', 'ERR_AUTH_RATE_LIMITED'), { retryAfterMs: 12_300 });
      },
    } as AuthService;
    const other = await make(saying);
    t.teardown(other.close);
    t.is((await answer(await login(other.base))).retryAfter, '13', name);

    const user = await signedUser(server.base);
    const ok = await user.client.fetch('/api/me');
    t.deepEqual(await ok.json(), { user: user.username }, name);
  }
});
