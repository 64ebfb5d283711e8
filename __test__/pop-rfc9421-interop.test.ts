/**
 * Interop with an independent RFC 9421 implementation (dhensby's
 * http-message-signatures, with its own `hmac-sha256` signer and verifier):
 * it signs requests with the PoP key (derived here with node:crypto's HKDF,
 * not keyward's) that a real Fastify server with keywardAuth accepts, and it
 * verifies the signatures keyward's Node signer and client made.
 */
import { createHash, hkdfSync } from 'node:crypto';
import test from 'ava';
import { createSigner, createVerifier, httpbis } from 'http-message-signatures';
import { decodeBase64Url, encodeBase64Url } from '../src/bytes';
import { createClient } from '../src/client/index';
import { derivePopKey, OpaqueClient, type ServerSetup, signRequestRfc9421 } from '../src/index';
import { fast } from './helpers';
import { rfc9421Server } from './support/rfc9421-server';

/** Registers and logs in over HTTP; returns the bearer token, session id and session key. */
async function login(base: string, setup: ServerSetup) {
  const registrar = createClient({ baseUrl: base, authBaseUrl: `${base}/auth`, keyStretching: fast, serverPublicKey: setup.publicKey });
  await registrar.register('alice', 'pw');
  const opaque = new OpaqueClient({ keyStretching: fast, serverPublicKey: setup.publicKey });
  const post = async (path: string, body: object) =>
    (await (
      await fetch(`${base}/auth${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    ).json()) as Record<string, string>;
  const start = opaque.startLogin('pw');
  const started = await post('/login/start', { username: 'alice', request: encodeBase64Url(start.request) });
  const done = await opaque.finishLogin(start.state, 'pw', decodeBase64Url(started.response));
  const finished = await post('/login/finish', { loginState: started.loginState, finalization: encodeBase64Url(done.finalization) });
  return { token: finished.token, sessionId: finished.sessionId, sessionKey: done.sessionKey };
}

/** docs/pop.md's derivation, computed with node:crypto. */
const popKeyBytes = (sessionKey: Uint8Array, sessionId: string) => Buffer.from(hkdfSync('sha256', sessionKey, Buffer.from(sessionId), 'keyward pop v1', 32));
const digestOf = (body: string) => `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;

let nonces = 0;
/** A request signed by http-message-signatures in keyward's profile. */
async function signedByLibrary(
  url: string,
  method: string,
  headers: Record<string, string>,
  key: Buffer,
  sessionId: string,
  fields: string[],
  created = new Date(),
) {
  return httpbis.signMessage(
    {
      key: createSigner(key, 'hmac-sha256', sessionId),
      name: 'pop',
      params: ['created', 'keyid', 'nonce', 'alg'],
      fields,
      paramValues: { created, nonce: `interop-nonce-${nonces++}-${Date.now()}` },
    },
    { method, url, headers },
  );
}

test('requests signed by http-message-signatures with the derived key pass keywardAuth on a real Fastify server', async (t) => {
  const { base, setup } = await rfc9421Server(t);
  const { token, sessionId, sessionKey } = await login(base, setup);
  const key = popKeyBytes(sessionKey, sessionId);
  const body = JSON.stringify({ to: 'bob', amount: 5 });
  const send = async (signed: { method: string; url: string; headers: Record<string, string | string[]> }, sentBody?: string) =>
    fetch(signed.url, { method: signed.method, headers: signed.headers as Record<string, string>, body: sentBody });

  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-digest': digestOf(body) };
  const post = await signedByLibrary(`${base}/api/transfer?dry=1`, 'POST', headers, key, sessionId, ['@method', '@target-uri', 'content-digest']);
  t.regex(
    String(post.headers['Signature-Input'] ?? post.headers['signature-input']),
    /^pop=\("@method" "@target-uri" "content-digest"\);created=\d+;keyid=".+";nonce=".+";alg="hmac-sha256"$/,
  );
  const accepted = await send(post, body);
  t.is(accepted.status, 200);
  t.deepEqual(await accepted.json(), { user: 'alice', body: { to: 'bob', amount: 5 } });
  // The same request again is a replay.
  t.is((await send(post, body)).status, 401);

  const get = await signedByLibrary(`${base}/api/me?x=1`, 'GET', { authorization: `Bearer ${token}` }, key, sessionId, ['@method', '@path', '@query']);
  t.is((await send(get)).status, 200);

  // What the profile refuses, the server refuses: a body it does not cover, another body, an old signature.
  const uncovered = await signedByLibrary(`${base}/api/transfer`, 'POST', { ...headers }, key, sessionId, ['@method', '@target-uri']);
  t.is((await send(uncovered, body)).status, 401);
  const otherBody = await signedByLibrary(`${base}/api/transfer`, 'POST', { ...headers }, key, sessionId, ['@method', '@target-uri', 'content-digest']);
  const refused = await send(otherBody, JSON.stringify({ to: 'mallory', amount: 5 }));
  t.is(refused.status, 401);
  t.is(((await refused.json()) as { error: { code: string } }).error.code, 'ERR_POP_BAD_MAC');
  const old = await signedByLibrary(
    `${base}/api/me`,
    'GET',
    { authorization: `Bearer ${token}` },
    key,
    sessionId,
    ['@method', '@target-uri'],
    new Date(Date.now() - 120_000),
  );
  const stale = await send(old);
  t.is(((await stale.json()) as { error: { code: string } }).error.code, 'ERR_POP_STALE');
});

test("http-message-signatures verifies the signatures keyward's Node signer makes, and the client's pass a server that takes only RFC 9421", async (t) => {
  const { base, setup } = await rfc9421Server(t, ['rfc9421']);
  const { token, sessionId, sessionKey } = await login(base, setup);
  const key = popKeyBytes(sessionKey, sessionId);
  const keyLookup = async (params: { keyid?: string }) =>
    params.keyid === sessionId ? { id: sessionId, algs: ['hmac-sha256'], verify: createVerifier(key, 'hmac-sha256') } : null;
  const popKey = derivePopKey(sessionKey, sessionId, { bearer: token });
  for (const components of ['target-uri', 'path-query'] as const) {
    const url = `${base}/api/transfer?dry=1`;
    const body = '{"to":"bob"}';
    const headers = signRequestRfc9421(popKey, { method: 'POST', url, body, components });
    t.is(headers['content-digest'], digestOf(body));
    const verified = await httpbis.verifyMessage({ keyLookup, requiredParams: ['created', 'keyid', 'nonce', 'alg'] }, { method: 'POST', url, headers });
    t.true(verified, components);
    const tampered = await httpbis.verifyMessage({ keyLookup }, { method: 'POST', url: `${base}/api/transfer?dry=0`, headers });
    t.false(tampered, components);
  }

  // keyward's client with signature: 'rfc9421' (which signs with signRequestRfc9421), against the server that takes only that form.
  const sent: { url: string; signatureInput: string | null }[] = [];
  const client = createClient({
    baseUrl: `${base}/api`,
    authBaseUrl: `${base}/auth`,
    keyStretching: fast,
    serverPublicKey: setup.publicKey,
    signature: 'rfc9421',
    fetch: (url, init) => {
      sent.push({ url: String(url), signatureInput: new Headers(init?.headers).get('signature-input') });
      return fetch(url, init);
    },
  });
  await client.login('alice', 'pw');
  t.is((await client.fetch('/me?q=a b')).status, 200);
  // A lower-case method is signed as fetch sends it (upper-cased).
  t.is((await client.fetch('/transfer', { method: 'post', body: '{"to":"carol"}' })).status, 200);
  const signedRequests = sent.filter((r) => r.signatureInput?.startsWith('pop=("@method" "@target-uri"'));
  t.is(signedRequests.length, 2);
  // A keyward-form server refuses the same client: the old form is off only where configured.
  const oldForm = await rfc9421Server(t, ['keyward']);
  const other = createClient({
    baseUrl: `${oldForm.base}/api`,
    authBaseUrl: `${oldForm.base}/auth`,
    keyStretching: fast,
    serverPublicKey: oldForm.setup.publicKey,
    signature: 'rfc9421',
  });
  await other.register('bob', 'pw');
  await other.login('bob', 'pw');
  t.is((await other.fetch('/me')).status, 401);
});
