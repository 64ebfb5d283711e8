/**
 * The verified session (what frameworks put on `request.auth`) shows its
 * username, session id and expiry, and never its bearer token or key, in
 * JSON and in `util.inspect`, however deep.
 */

import { inspect } from 'node:util';
import test from 'ava';
import { AuthSession, createAuthService, derivePopKey, MemoryStore, OpaqueClient, SecretKey, ServerSetup, signRequest } from '../src/index';
import { fast } from './helpers';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

test('JSON.stringify and util.inspect of a verified session show no token and no key', async (t) => {
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate() });
  const opaque = new OpaqueClient({ keyStretching: fast });
  const reg = opaque.startRegistration('pw');
  const { response } = await service.registerStart({ username: 'grace', request: b64(reg.request) });
  const done = await opaque.finishRegistration(reg.state, 'pw', Buffer.from(response, 'base64url'));
  await service.registerFinish({ username: 'grace', upload: b64(done.upload) });
  const login = opaque.startLogin('pw');
  const started = await service.loginStart({ username: 'grace', request: b64(login.request) }, { address: '127.0.0.1' });
  const fin = await opaque.finishLogin(login.state, 'pw', Buffer.from(started.response, 'base64url'));
  const { token, sessionId, expiresAt } = await service.loginFinish({ loginState: started.loginState, finalization: b64(fin.finalization) });
  const popKey = derivePopKey(fin.sessionKey, sessionId, { bearer: token });
  const session = await service.verify({ method: 'GET', url: '/me', headers: signRequest(popKey, { method: 'GET', url: '/me' }) });

  t.true(session instanceof AuthSession);
  t.is(session.popKey.bearer, token, 'the key is still there for whoever asks for it');
  const key = session.popKey.exportBytes();
  const secrets = [token, b64(key), Buffer.from(key).toString('hex'), Buffer.from(key).toString('base64'), b64(fin.sessionKey)];

  const json = JSON.stringify({ auth: session });
  t.deepEqual(JSON.parse(json), { auth: { username: 'grace', sessionId, expiresAt } });
  const shown = [
    json,
    inspect(session),
    inspect({ request: { auth: session } }, { depth: Infinity, showHidden: true, getters: true }),
    `${inspect(session, { colors: true })}`,
    JSON.stringify({ ...session }),
    Object.keys(session).join(','),
  ];
  for (const text of shown) {
    for (const secret of secrets) t.false(text.includes(secret), `${text.slice(0, 60)}… shows a secret`);
  }
  t.regex(inspect(session), /^AuthSession \{\s+username: 'grace',\s+sessionId: '[\w-]+',\s+expiresAt: \d+\s+\}$/);
  t.deepEqual(Object.keys(session).sort(), ['createdAt', 'expiresAt', 'sessionId', 'username']);
});
