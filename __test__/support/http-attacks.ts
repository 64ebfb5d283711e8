/**
 * Every PoP outcome over real HTTP, for any server that mounts the auth
 * routes and a signed `POST /api/transfer` answering `{ user, body }`.
 */

import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
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

/** A logged-in client whose next request can be changed on the way, as a machine in the middle would. */
export interface SignedUser {
  client: ReturnType<typeof createClient>;
  username: string;
  /** Signs `init` through the client, then sends what `change` makes of it. */
  tampered(path: string, init: RequestInit, change: (init: RequestInit) => RequestInit): Promise<Response>;
}

export async function signedUser(baseUrl: string, authBaseUrl = baseUrl): Promise<SignedUser> {
  let change: ((init: RequestInit) => RequestInit) | undefined;
  const client = createClient({
    baseUrl,
    authBaseUrl,
    keyStretching: fast,
    fetch: (url, init) => {
      const next = change === undefined ? init : change(init ?? {});
      change = undefined;
      return fetch(url, next);
    },
  });
  const username = `u-${randomBytes(6).toString('hex')}`;
  await client.register(username, 'pw');
  await client.login(username, 'pw');
  return {
    client,
    username,
    tampered(path, init, how) {
      change = how;
      return client.fetch(path, init);
    },
  };
}

/** One body of each kind a signed route may carry. */
export const signedBodies: Record<string, { type: string; body: string | Uint8Array }> = {
  json: { type: 'application/json', body: JSON.stringify({ to: 'bob', amount: 5 }) },
  text: { type: 'text/plain; charset=utf-8', body: 'pay bob 5 ✓' },
  form: { type: 'application/x-www-form-urlencoded', body: 'to=bob&amount=5' },
  binary: { type: 'application/octet-stream', body: new Uint8Array([0, 1, 2, 255, 254, 10, 13, 0]) },
};

function changed(body: string | Uint8Array): string | Uint8Array {
  if (typeof body === 'string') return body.replace('5', '6');
  const copy = new Uint8Array(body);
  copy[copy.length - 1] ^= 1;
  return copy;
}

/** Every kind of body, signed, verifies on `path`; the same signature over one changed byte does not. */
export async function bodiesVerify(t: ExecutionContext, user: SignedUser, path: string) {
  for (const [kind, { type, body }] of Object.entries(signedBodies)) {
    const ok = await user.client.fetch(path, { method: 'POST', headers: { 'content-type': type }, body: body as BodyInit });
    t.is(ok.status, 200, `${path}: a signed ${kind} body verifies`);
    if (ok.status === 200) t.is(((await ok.json()) as { user?: string }).user, user.username);
    const bad = await user.tampered(path, { method: 'POST', headers: { 'content-type': type }, body: body as BodyInit }, (init) => ({
      ...init,
      body: changed(body) as BodyInit,
    }));
    t.deepEqual(await outcome(bad), { status: 401, code: 'ERR_POP_BAD_MAC' }, `${path}: a changed ${kind} body`);
  }
}

/** A request signed without a body, sent with one added (JSON, text, bytes), is refused on `path`. */
export async function addedBodyRefused(t: ExecutionContext, user: SignedUser, path: string) {
  for (const kind of ['json', 'text', 'binary']) {
    const { type, body } = signedBodies[kind];
    const response = await user.tampered(path, { method: 'POST' }, (init) => {
      const headers = new Headers(init.headers);
      headers.set('content-type', type);
      return { ...init, headers, body: body as BodyInit };
    });
    const { status, code } = await outcome(response);
    t.is(status, 401, `${path}: a ${kind} body added to a request signed without one`);
    t.true(code?.startsWith('ERR_POP_'), `${path}: ${kind}: ${code}`);
  }
}
