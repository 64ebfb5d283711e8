/**
 * A browser-style client built on `@serenity-kit/opaque` (the WASM package a
 * web app would ship) registers and logs in against the keyward server over
 * HTTP, then signs a request with the PoP key derived from its session key.
 */

import * as serenity from '@serenity-kit/opaque';
import test from 'ava';
import Fastify from 'fastify';
import { keywardAuth } from '../src/fastify/index';
import { createAuthService, decodeBase64Url, derivePopKey, MemoryStore, SecretKey, ServerSetup, signRequest } from '../src/index';

test('a @serenity-kit/opaque client registers, logs in and makes a signed request', async (t) => {
  await serenity.ready;
  const setup = ServerSetup.generate();
  const service = createAuthService({ serverSetup: setup, store: new MemoryStore(), sealKey: SecretKey.generate() });
  const app = Fastify();
  await app.register(keywardAuth, { service });
  app.get('/api/me', { preHandler: app.requirePop }, async (request) => ({ user: request.auth!.username }));
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const post = async (path: string, body: object) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    t.is(response.status, 200, path);
    return response.json() as Promise<Record<string, string>>;
  };

  const password = 'hunter2 but longer';
  const r1 = serenity.client.startRegistration({ password });
  const { response } = await post('/register/start', { username: 'web-user', request: r1.registrationRequest });
  const r2 = serenity.client.finishRegistration({ clientRegistrationState: r1.clientRegistrationState, registrationResponse: response, password });
  t.is(r2.serverStaticPublicKey, Buffer.from(setup.publicKey).toString('base64url'));
  await post('/register/finish', { username: 'web-user', upload: r2.registrationRecord });

  const l1 = serenity.client.startLogin({ password });
  const started = await post('/login/start', { username: 'web-user', request: l1.startLoginRequest });
  const l2 = serenity.client.finishLogin({ clientLoginState: l1.clientLoginState, loginResponse: started.response, password });
  t.truthy(l2);
  const session = await post('/login/finish', { loginState: started.loginState, finalization: l2!.finishLoginRequest });

  const popKey = derivePopKey(decodeBase64Url(l2!.sessionKey), session.sessionId, { bearer: session.token });
  const me = await fetch(`${base}/api/me`, { headers: signRequest(popKey, { method: 'GET', url: '/api/me' }) });
  t.is(me.status, 200);
  t.deepEqual(await me.json(), { user: 'web-user' });

  // The same client with a wrong password gets no session.
  const w1 = serenity.client.startLogin({ password: 'wrong' });
  const wrongStart = await post('/login/start', { username: 'web-user', request: w1.startLoginRequest });
  t.is(serenity.client.finishLogin({ clientLoginState: w1.clientLoginState, loginResponse: wrongStart.response, password: 'wrong' }), undefined);
});
