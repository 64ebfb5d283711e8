/**
 * The web client's `signature: 'rfc9421'` option, run on Node's WebCrypto
 * (globalThis.crypto) against a real Fastify server with keywardAuth that
 * takes only RFC 9421 signatures: its requests, with and without a body, pass;
 * with the default form they are refused there.
 */
import test from 'ava';
import { createWebClient } from '../src/web/index';
import { rfc9421Server } from './support/rfc9421-server';

const fast = { 'argon2id-custom': { iterations: 1, memory: 64, parallelism: 1 } } as const;

test('the web client signs with RFC 9421 when asked, and a server that takes only that form accepts it', async (t) => {
  const { base, setup } = await rfc9421Server(t, ['rfc9421']);

  const inputs: string[] = [];
  const recording: typeof fetch = (url, init) => {
    inputs.push(new Headers(init?.headers).get('signature-input') ?? '');
    return fetch(url, init);
  };
  const options = { baseUrl: `${base}/api`, authBaseUrl: `${base}/auth`, keyStretching: fast, serverPublicKey: setup.publicKey, fetch: recording };
  const web = createWebClient({ ...options, signature: 'rfc9421' });
  await web.register('alice', 'pw');
  await web.login('alice', 'pw');
  const me = await web.fetch('/me?q=1');
  t.is(me.status, 200);
  t.deepEqual(await me.json(), { user: 'alice' });
  // A lower-case method is signed as fetch sends it.
  const transfer = await web.fetch('/transfer', { method: 'post', body: '{"to":"bob"}' });
  t.deepEqual(await transfer.json(), { user: 'alice', body: { to: 'bob' } });
  t.regex(inputs.at(-2) ?? '', /^pop=\("@method" "@target-uri"\);created=\d+;keyid="[^"]+";nonce="[^"]+";alg="hmac-sha256"$/);
  t.regex(inputs.at(-1) ?? '', /^pop=\("@method" "@target-uri" "content-digest"\);/);

  const old = createWebClient(options);
  await old.login('alice', 'pw');
  const refused = await old.fetch('/me');
  t.is(refused.status, 401);
  t.throws(() => createWebClient({ ...options, signature: 'other' as 'keyward' }), { code: 'ERR_INVALID_ARG_VALUE' });
});
