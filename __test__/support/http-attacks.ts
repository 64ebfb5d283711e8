/**
 * Every PoP outcome over real HTTP, for any server that mounts the auth
 * routes and a signed `POST /api/transfer` answering `{ user, body }`.
 */
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { createClient } from '../../src/client/index';
import { derivePopKey, signRequest } from '../../src/index';
import { fast } from '../helpers';

async function outcome(response: Response) {
  return { status: response.status, code: ((await response.json()) as { error?: { code: string } }).error?.code };
}

export async function popOverHttp(t: ExecutionContext, baseUrl: string, serverPublicKey: Uint8Array) {
  let captured: { headers: Headers; body: string } | undefined;
  const client = createClient({
    baseUrl,
    keyStretching: fast,
    serverPublicKey,
    fetch: async (url, init) => {
      if (String(url).endsWith('/api/transfer')) captured = { headers: new Headers(init!.headers), body: String(init!.body) };
      return fetch(url, init);
    },
  });
  await client.register('alice', 'correct horse');
  await client.login('alice', 'correct horse');
  const body = JSON.stringify({ to: 'bob', amount: 5 });
  const ok = await client.fetch('/api/transfer', { method: 'POST', body });
  t.is(ok.status, 200);
  t.deepEqual(await ok.json(), { user: 'alice', body: { to: 'bob', amount: 5 } });

  const url = `${baseUrl}/api/transfer`;
  const post = (headers: HeadersInit, sent = body) => fetch(url, { method: 'POST', headers, body: sent }).then(outcome);
  t.deepEqual(await post(captured!.headers), { status: 401, code: 'ERR_POP_REPLAY' }, 'replay');

  const token = captured!.headers.get('authorization')!;
  t.deepEqual(await post({ authorization: token, 'content-type': 'application/json' }), { status: 401, code: 'ERR_POP_STALE' }, 'unsigned token');
  const thief = derivePopKey(randomBytes(64), 'thief', { bearer: token.slice('Bearer '.length) });
  const forged = () => ({ ...signRequest(thief, { method: 'POST', url: '/api/transfer', body }), 'content-type': 'application/json' });
  t.deepEqual(await post(forged()), { status: 401, code: 'ERR_POP_BAD_MAC' }, 'token without the key');

  const renonce = (h: Headers) => (h.set('x-nonce', randomBytes(16).toString('base64url')), h);
  t.deepEqual(await post(renonce(new Headers(captured!.headers)), body.replace('5', '500')), { status: 401, code: 'ERR_POP_BAD_MAC' }, 'tampered body');
  const stale = renonce(new Headers(captured!.headers));
  stale.set('x-ts', String(Date.now() - 300_000));
  t.deepEqual(await post(stale), { status: 401, code: 'ERR_POP_STALE' }, 'stale');
  t.deepEqual(await post({ authorization: 'Bearer abc', 'content-type': 'application/json' }), { status: 401, code: 'ERR_POP_NO_SESSION' }, 'no session');

  await client.logout();
  t.deepEqual(await post(forged()), { status: 401, code: 'ERR_POP_NO_SESSION' }, 'after logout');
}
