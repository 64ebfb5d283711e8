/**
 * keyward against the real `@serenity-kit/opaque` and `@serenity-kit/opaque-p256`
 * from npm: setup and registration on one side, login on the other, both ways,
 * for the default preset and a custom one. Keys must be equal.
 */

import * as serenityR255 from '@serenity-kit/opaque';
import * as serenityP256 from '@serenity-kit/opaque-p256';
import test from 'ava';
import { decodeBase64Url, encodeBase64Url, OpaqueClient, OpaqueServer, ServerRegistration, ServerSetup } from '../src/index';
import * as keywardR255 from '../src/serenity/index';
import * as keywardP256 from '../src/serenity/p256';

type Api = Pick<typeof keywardR255, 'client' | 'server' | 'ready'>;
const custom = { 'argon2id-custom': { iterations: 2, memory: 4096, parallelism: 2 } } as const;
const pairs = [
  { name: 'ristretto255', keyward: keywardR255 as Api, serenity: serenityR255 as unknown as Api },
  { name: 'P-256', keyward: keywardP256 as unknown as Api, serenity: serenityP256 as unknown as Api },
];

test.before(async () => {
  await Promise.all([serenityR255.ready, serenityP256.ready, keywardR255.ready, keywardP256.ready]);
});

/** Registration with `reg` (server and client), login with `log` (server and client). */
function flow(reg: Api, log: Api, keyStretching: typeof custom | 'memory-constrained') {
  const serverSetup = reg.server.createSetup();
  const userIdentifier = 'alice@example.com';
  const password = 'correct horse battery staple';
  const r1 = reg.client.startRegistration({ password });
  const { registrationResponse } = reg.server.createRegistrationResponse({ serverSetup, userIdentifier, registrationRequest: r1.registrationRequest });
  const r2 = reg.client.finishRegistration({ clientRegistrationState: r1.clientRegistrationState, registrationResponse, password, keyStretching });

  const l1 = log.client.startLogin({ password });
  const s1 = log.server.startLogin({ serverSetup, userIdentifier, registrationRecord: r2.registrationRecord, startLoginRequest: l1.startLoginRequest });
  const l2 = log.client.finishLogin({ clientLoginState: l1.clientLoginState, loginResponse: s1.loginResponse, password, keyStretching });
  if (!l2) throw new Error('login failed');
  const s2 = log.server.finishLogin({ serverLoginState: s1.serverLoginState, finishLoginRequest: l2.finishLoginRequest });
  return { serverSetup, r2, l2, s2 };
}

for (const { name, keyward, serenity } of pairs) {
  for (const ks of ['memory-constrained', custom] as const) {
    const label = typeof ks === 'string' ? ks : 'custom';
    test(`${name} ${label}: serenity registers, keyward logs in`, (t) => {
      const { serverSetup, r2, l2, s2 } = flow(serenity, keyward, ks);
      t.is(l2.sessionKey, s2.sessionKey);
      t.is(l2.exportKey, r2.exportKey);
      t.is(l2.serverStaticPublicKey, serenity.server.getPublicKey(serverSetup));
      t.is(keyward.server.getPublicKey(serverSetup), serenity.server.getPublicKey(serverSetup));
    });
    test(`${name} ${label}: keyward registers, serenity logs in`, (t) => {
      const { r2, l2, s2 } = flow(keyward, serenity, ks);
      t.is(l2.sessionKey, s2.sessionKey);
      t.is(l2.exportKey, r2.exportKey);
    });
    test(`${name} ${label}: keyward server, serenity client`, (t) => {
      const mixed = { client: serenity.client, server: keyward.server, ready: keyward.ready } as Api;
      const { r2, l2, s2 } = flow(mixed, mixed, ks);
      t.is(l2.sessionKey, s2.sessionKey);
      t.is(l2.exportKey, r2.exportKey);
    });
    test(`${name} ${label}: serenity server, keyward client (async finish)`, async (t) => {
      const serverSetup = serenity.server.createSetup();
      const password = 'pw';
      const r1 = keyward.client.startRegistration({ password });
      const { registrationResponse } = serenity.server.createRegistrationResponse({
        serverSetup,
        userIdentifier: 'bob',
        registrationRequest: r1.registrationRequest,
      });
      const r2 = await keyward.client.finishRegistrationAsync({
        clientRegistrationState: r1.clientRegistrationState,
        registrationResponse,
        password,
        keyStretching: ks,
      });
      const l1 = keyward.client.startLogin({ password });
      const s1 = serenity.server.startLogin({
        serverSetup,
        userIdentifier: 'bob',
        registrationRecord: r2.registrationRecord,
        startLoginRequest: l1.startLoginRequest,
      });
      const l2 = await keyward.client.finishLoginAsync({ clientLoginState: l1.clientLoginState, loginResponse: s1.loginResponse, password, keyStretching: ks });
      t.truthy(l2);
      t.is(serenity.server.finishLogin({ serverLoginState: s1.serverLoginState, finishLoginRequest: l2!.finishLoginRequest }).sessionKey, l2!.sessionKey);
    });
  }

  test(`${name}: wrong password gives undefined like serenity; malformed input throws`, (t) => {
    const serverSetup = keyward.server.createSetup();
    const r1 = keyward.client.startRegistration({ password: 'right' });
    const { registrationResponse } = keyward.server.createRegistrationResponse({
      serverSetup,
      userIdentifier: 'u',
      registrationRequest: r1.registrationRequest,
    });
    const ks = custom;
    const r2 = keyward.client.finishRegistration({
      clientRegistrationState: r1.clientRegistrationState,
      registrationResponse,
      password: 'right',
      keyStretching: ks,
    });
    for (const api of [keyward, serenity]) {
      const l1 = api.client.startLogin({ password: 'wrong' });
      const s1 = keyward.server.startLogin({
        serverSetup,
        userIdentifier: 'u',
        registrationRecord: r2.registrationRecord,
        startLoginRequest: l1.startLoginRequest,
      });
      t.is(api.client.finishLogin({ clientLoginState: l1.clientLoginState, loginResponse: s1.loginResponse, password: 'wrong', keyStretching: ks }), undefined);
    }
    // Unknown user: fake record, same shape, login fails on the client.
    const l1 = serenity.client.startLogin({ password: 'right' });
    const s1 = keyward.server.startLogin({ serverSetup, userIdentifier: 'ghost', registrationRecord: null, startLoginRequest: l1.startLoginRequest });
    t.is(
      serenity.client.finishLogin({ clientLoginState: l1.clientLoginState, loginResponse: s1.loginResponse, password: 'right', keyStretching: ks }),
      undefined,
    );
    t.throws(() => keyward.server.getPublicKey(`${serverSetup}A`));
    t.throws(() => keyward.client.finishLogin({ clientLoginState: 'AAAA', loginResponse: s1.loginResponse, password: 'x' }));
  });
}

test('keyward core reads serenity setups and records and logs a serenity client in', async (t) => {
  const serverSetup = serenityR255.server.createSetup();
  const setup = ServerSetup.fromRaw('ristretto255_sha512', decodeBase64Url(serverSetup));
  t.is(encodeBase64Url(setup.publicKey), serenityR255.server.getPublicKey(serverSetup));
  const server = new OpaqueServer(setup);
  const r1 = serenityR255.client.startRegistration({ password: 'pw' });
  const response = server.startRegistration(decodeBase64Url(r1.registrationRequest), 'dana');
  const r2 = serenityR255.client.finishRegistration({
    clientRegistrationState: r1.clientRegistrationState,
    registrationResponse: encodeBase64Url(response),
    password: 'pw',
  });
  const record = ServerRegistration.fromRaw('ristretto255_sha512', decodeBase64Url(r2.registrationRecord));

  const client = new OpaqueClient();
  const start = client.startLogin('pw');
  const s = server.startLogin(record, start.request, 'dana');
  const fin = await client.finishLogin(start.state, 'pw', s.response, { serverPublicKey: setup.publicKey });
  t.deepEqual(server.finishLogin(s.state, fin.finalization).sessionKey, fin.sessionKey);
  t.is(encodeBase64Url(fin.exportKey), r2.exportKey);
});
