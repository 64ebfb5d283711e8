/**
 * CORS on both adapters, as a browser sees it through real HTTP: a listed
 * origin's preflight is allowed with the headers a signed request sends, an
 * unlisted origin gets no CORS headers, a refusal exposes WWW-Authenticate,
 * and origins that are not scheme + host + port are refused up front.
 */

import test, { type ExecutionContext } from 'ava';
import Fastify from 'fastify';
import { keywardCors } from '../src/express/index';
import { keywardAuth } from '../src/fastify/index';
import { createAuthService, InvalidArgumentError, MemoryStore, SecretKey, ServerSetup } from '../src/index';
import { type Mount, mounts } from './support/mounts';

const page = 'https://app.example';
const service = () => createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate() });

/** keyward under `/auth` and the app's signed `/api/me`, with CORS for the page and a dev server. */
const withCors = (mount: Mount) => (t: ExecutionContext) =>
  mount(t, service(), { prefix: '/auth', signedPath: '/api/me', corsOrigins: [page, 'http://localhost:5173'] });

/** A header's comma-separated list, as either CORS package spells it. */
const list = (value: string | null) =>
  (value ?? '')
    .toLowerCase()
    .split(',')
    .map((v) => v.trim());

const preflight = (url: string, origin: string, headers: string) =>
  fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers } });

for (const [name, mount] of Object.entries(mounts)) {
  const start = withCors(mount);
  test(`${name}: a listed origin's preflight allows the signed request's headers, on the auth routes and the app's`, async (t) => {
    const base = await start(t);
    for (const path of ['/auth/login/start', '/api/me']) {
      const answer = await preflight(`${base}${path}`, page, 'authorization,content-type,x-ts,x-nonce,x-pop');
      t.true(answer.status === 204 || answer.status === 200, path);
      t.is(answer.headers.get('access-control-allow-origin'), page, path);
      const allowed = list(answer.headers.get('access-control-allow-headers'));
      t.deepEqual(allowed.sort(), ['authorization', 'content-type', 'x-nonce', 'x-pop', 'x-ts'], path);
      t.is(answer.headers.get('access-control-max-age'), '600', path);
    }
  });

  test(`${name}: an unlisted origin gets no CORS headers (the browser then refuses the answer)`, async (t) => {
    const base = await start(t);
    const answer = await preflight(`${base}/auth/login/start`, 'https://evil.example', 'content-type');
    t.is(answer.headers.get('access-control-allow-origin'), null);
    const simple = await fetch(`${base}/api/me`, { headers: { origin: 'https://app.example.evil.example' } });
    t.is(simple.headers.get('access-control-allow-origin'), null);
  });

  test(`${name}: a refused signed request exposes WWW-Authenticate to the page`, async (t) => {
    const base = await start(t);
    const answer = await fetch(`${base}/api/me`, { headers: { origin: page, authorization: 'Bearer nobody' } });
    t.is(answer.status, 401);
    t.is(answer.headers.get('access-control-allow-origin'), page);
    t.deepEqual(list(answer.headers.get('access-control-expose-headers')).sort(), ['retry-after', 'www-authenticate']);
    t.truthy(answer.headers.get('www-authenticate'));
  });
}

test('origins that are not scheme, host and optional port are refused by both adapters', async (t) => {
  for (const bad of [['*'], ['https://app.example/'], ['https://app.example/path'], ['app.example'], [42], 'https://app.example']) {
    t.throws(() => keywardCors(bad as string[]), { instanceOf: InvalidArgumentError }, JSON.stringify(bad));
    const app = Fastify();
    await t.throwsAsync(
      async () => {
        await app.register(keywardAuth, { service: service(), corsOrigins: bad as string[] });
        await app.ready();
      },
      { instanceOf: InvalidArgumentError },
      JSON.stringify(bad),
    );
    await app.close();
  }
});
