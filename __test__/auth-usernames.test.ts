/**
 * Usernames are limited in UTF-8 bytes (255), so that every session token
 * stays a bearer the PoP layer accepts: names in any script up to the limit
 * work end to end, longer ones are refused at registration with a 400.
 */
import test from 'ava';
import { createClient } from '../src/client/index';
import { AuthError, createAuthService, derivePopKey, MemoryStore, OpaqueClient, SecretKey, ServerSetup, signRequest, USERNAME_MAX_BYTES } from '../src/index';
import { startReferenceServer } from '../src/server/reference';
import { fast } from './helpers';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

const cyrillic110 = 'ж'.repeat(110);
const cjk73 = '漢'.repeat(73);
const cjkAtLimit = '漢'.repeat(85);
const cyrillicAtLimit = `${'ж'.repeat(127)}a`;

test('the limit is 255 bytes, and the test names are where they claim to be', (t) => {
  t.is(USERNAME_MAX_BYTES, 255);
  t.is(bytes(cyrillic110), 220);
  t.is(bytes(cjk73), 219);
  t.is(bytes(cjkAtLimit), 255);
  t.is(bytes(cyrillicAtLimit), 255);
});

test('over real HTTP: 110 Cyrillic, 73 CJK and 255-byte names register, log in and sign requests; 256 bytes get a 400', async (t) => {
  const serverSetup = ServerSetup.generate();
  const { url, close } = await startReferenceServer({ serverSetup, sealKey: SecretKey.generate(), store: new MemoryStore(), port: 0 });
  t.teardown(close);
  for (const name of [cyrillic110, cjk73, cjkAtLimit, cyrillicAtLimit]) {
    const client = createClient({ baseUrl: url, keyStretching: fast, serverPublicKey: serverSetup.publicKey });
    await client.register(name, 'pw');
    await client.login(name, 'pw');
    const response = await client.fetch('/api/transfer', { method: 'POST', body: JSON.stringify({ to: 'bob', amount: 1 }) });
    t.is(response.status, 200, `${bytes(name)} bytes`);
    t.is(((await response.json()) as { from: string }).from, name);
  }
  for (const name of ['漢'.repeat(86), 'ж'.repeat(128), `${cjkAtLimit}a`]) {
    const client = createClient({ baseUrl: url, keyStretching: fast });
    const refused = await t.throwsAsync(client.register(name, 'pw'), { instanceOf: AuthError });
    t.is(refused!.code, 'ERR_AUTH_BAD_REQUEST', `${bytes(name)} bytes`);
    t.is(refused!.status, 400);
  }
});

test('the service: the longest name of any bytes gives a token under the bearer limits; longer, empty, control and lone-surrogate names are refused', async (t) => {
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate() });
  const opaque = new OpaqueClient({ keyStretching: fast });
  // Quotes and backslashes cost one byte each here: the token is binary, not JSON.
  const longest = `"\\${'x'.repeat(USERNAME_MAX_BYTES - 2)}`;
  const reg = opaque.startRegistration('pw');
  const { response } = await service.registerStart({ username: longest, request: b64(reg.request) });
  const done = await opaque.finishRegistration(reg.state, 'pw', Buffer.from(response, 'base64url'));
  await service.registerFinish({ username: longest, upload: b64(done.upload) });
  const login = opaque.startLogin('pw');
  const started = await service.loginStart({ username: longest, request: b64(login.request) }, { address: '127.0.0.1' });
  const fin = await opaque.finishLogin(login.state, 'pw', Buffer.from(started.response, 'base64url'));
  const session = await service.loginFinish({ loginState: started.loginState, finalization: b64(fin.finalization) });
  // PopKey takes a bearer of at most 512 characters, the verifier reads at most 4096.
  t.true(session.token.length <= 512, String(session.token.length));
  const popKey = derivePopKey(fin.sessionKey, session.sessionId, { bearer: session.token });
  const headers = signRequest(popKey, { method: 'GET', url: '/me' });
  t.is((await service.verify({ method: 'GET', url: '/me', headers })).username, longest);

  for (const bad of ['x'.repeat(USERNAME_MAX_BYTES + 1), '', 'a\nb', 'a\u0000', 'a\u007f', 'bad\ud800', '\udc00']) {
    const error = await t.throwsAsync(service.registerStart({ username: bad, request: b64(opaque.startRegistration('pw').request) }), {
      instanceOf: AuthError,
    });
    t.is(error!.code, 'ERR_AUTH_BAD_REQUEST');
    t.false(error!.message.includes(bad.slice(0, 8)) && bad.length > 0, 'the message does not echo the name');
    await t.throwsAsync(service.loginStart({ username: bad, request: b64(login.request) }), { code: 'ERR_AUTH_BAD_REQUEST' });
  }
});
