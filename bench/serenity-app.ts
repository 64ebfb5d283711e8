/**
 * The comparison server of `npm run bench:server`: the same Fastify routes,
 * store and sealed login state as `keyward serve`, with @serenity-kit/opaque
 * (WASM) as the OPAQUE engine. Only what the benchmark drives is here.
 * Prints `listening on URL` like `keyward serve`.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as serenity from '@serenity-kit/opaque';
import Fastify from 'fastify';
import { encodeBase64Url, SecretKey, SqliteStore, sealJson } from '../src/index';

async function main() {
  await serenity.ready;
  const serverSetup = serenity.server.createSetup();
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'keyward-serenity-')), 'auth.db'));
  const loginKey = SecretKey.generate().derive('keyward auth', 'login state');
  // The same per-start limiter call keyward's service makes, with a limit the load never reaches.
  const limiter = store.limiter({ name: 'bench', points: 1e9, duration: 60 });
  const app = Fastify({ bodyLimit: 64 * 1024 });
  app.post('/register/start', async (request) => {
    const { username, request: registrationRequest } = request.body as Record<string, string>;
    return { response: serenity.server.createRegistrationResponse({ serverSetup, userIdentifier: username, registrationRequest }).registrationResponse };
  });
  app.post('/register/finish', async (request, reply) => {
    const { username, upload } = request.body as Record<string, string>;
    if (!(await store.createUser(username, Buffer.from(upload, 'base64url')))) return reply.code(409).send({ error: { code: 'ERR_AUTH_USER_EXISTS' } });
    return { ok: true };
  });
  app.post('/login/start', async (request) => {
    const { username, request: startLoginRequest } = request.body as Record<string, string>;
    await limiter.consume(username);
    const file = await store.getPasswordFile(username);
    const registrationRecord = file === undefined ? null : Buffer.from(file).toString('base64url');
    const { loginResponse, serverLoginState } = serenity.server.startLogin({ serverSetup, userIdentifier: username, registrationRecord, startLoginRequest });
    const loginState = sealJson(loginKey, { u: username, s: serverLoginState }, { aad: 'keyward login state v1' });
    return { response: loginResponse, loginState: encodeBase64Url(loginState) };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  console.log(`listening on ${url} (server public key ${serenity.server.getPublicKey(serverSetup)})`);
}

void main();
