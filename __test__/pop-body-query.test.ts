/**
 * A signature covers what the server acts on: the request target exactly as
 * sent (no reordering of query parameters, no other spelling), and the raw
 * body bytes; a body the verifier was not given is refused, not skipped.
 */

import { randomBytes } from 'node:crypto';
import test from 'ava';
import { derivePopKey, type HeaderBag, PopError, PopVerifier, signRequest } from '../src/index';
import { popOutcome } from './support/pop-outcome';

const NOW = 1_800_000_000_000;

function setup() {
  const sessionKey = randomBytes(64);
  const clientKey = derivePopKey(sessionKey, 'sess-1');
  const serverKey = derivePopKey(sessionKey, 'sess-1');
  const verifier = new PopVerifier({ lookup: (id) => (id === 'sess-1' ? { popKey: serverKey } : undefined), clock: () => NOW });
  const sign = (url: string, body?: string | Uint8Array) => signRequest(clientKey, { method: 'POST', url, body, timestamp: NOW });
  const verify = (url: string, headers: HeaderBag, body?: string | Uint8Array | null) => verifier.verify({ method: 'POST', url, headers, body });
  return { sign, verify };
}

const code = popOutcome;

test('query parameters are signed in their order: reordered, the request is refused', async (t) => {
  const { sign, verify } = setup();
  const headers = sign('/pay?to=alice&to=mallory');
  t.is(await code(verify('/pay?to=mallory&to=alice', headers)), 'ERR_POP_BAD_MAC');
  // Each pair on its own: the signed request passes once, the other one never.
  for (const [signed, sent] of [
    ['/pay?to=alice&to=mallory', '/pay?to=mallory&to=alice'],
    ['/pay?amount=5&to=bob', '/pay?to=bob&amount=5'],
    ['/pay?a=1&&b=2', '/pay?a=1&b=2'],
    ['/pay?', '/pay'],
    ['/pay?to=alice', '/pay?to=%61lice'],
    ['/pay?memo=a+b', '/pay?memo=a%20b'],
    ['/pay?to=alice', '/pay?to=alice&to=mallory'],
    ['/pay?to=alice', '/pay?to=alice#x'],
    ['/pay/alice', '/pay/./alice'],
    ['/pay/alice', '/pay/alice/'],
  ]) {
    t.is(await code(verify(sent, sign(signed))), 'ERR_POP_BAD_MAC', `${signed} sent as ${sent}`);
    t.is(await code(verify(signed, sign(signed))), 'ok', signed);
  }
});

test('a full URL is signed as URL serializes its path and query, which is what fetch sends', async (t) => {
  const { sign, verify } = setup();
  t.is(await code(verify('/pay?to=bob&amount=5', sign('https://api.example/pay?to=bob&amount=5#frag'))), 'ok');
  t.is(await code(verify('/a%20b?q=a%20b', sign('https://api.example/a b?q=a b'))), 'ok');
  t.is(await code(verify('/pay?amount=5&to=bob', sign('https://api.example/pay?to=bob&amount=5'))), 'ERR_POP_BAD_MAC');
});

test('a request signed without a body and sent with one is refused, whatever the content type', async (t) => {
  const { sign, verify } = setup();
  const bare = sign('/pay');
  for (const [type, body] of [
    ['application/json', '{"amount":500}'],
    ['text/plain', 'x'],
    ['application/octet-stream', Uint8Array.of(0, 1, 2)],
    ['application/x-www-form-urlencoded', 'amount=500'],
  ] as const) {
    const length = String(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
    t.is(await code(verify('/pay', { ...bare, 'content-type': type, 'content-length': length }, body)), 'ERR_POP_BAD_MAC', type);
  }
  // And a body is compared as bytes: the same text in another encoding is another body.
  const latin1 = Buffer.from('café', 'latin1');
  t.is(await code(verify('/pay', sign('/pay', latin1), Buffer.from('café', 'utf8'))), 'ERR_POP_BAD_MAC');
  t.is(await code(verify('/pay', sign('/pay', latin1), latin1)), 'ok');
});

test('a body the headers announce but the caller did not pass is ERR_POP_BODY_MISSING, not an empty body', async (t) => {
  const { sign, verify } = setup();
  for (const extra of [{ 'content-length': '14' }, { 'transfer-encoding': 'chunked' }, { 'content-length': 'x' }, { 'content-length': ['14'] as never }]) {
    // Signed without a body: checked against an empty body it would pass.
    const headers = { ...sign('/pay'), ...extra };
    for (const body of [undefined, null]) {
      const error = await t.throwsAsync(verify('/pay', headers, body), { instanceOf: PopError }, JSON.stringify(extra));
      t.is(error?.code, 'ERR_POP_BODY_MISSING' as never);
      t.regex(error?.message ?? '', /raw bytes/);
    }
  }
  // The same through fetch-style Headers.
  const fetchHeaders = new Headers({ ...sign('/pay'), 'content-length': '14' });
  t.is(await code(verify('/pay', fetchHeaders)), 'ERR_POP_BODY_MISSING');
  // No body announced, or a zero length: the empty body is the body.
  t.is(await code(verify('/pay', sign('/pay'))), 'ok');
  t.is(await code(verify('/pay', { ...sign('/pay'), 'content-length': '0' })), 'ok');
  t.is(await code(verify('/pay', new Headers({ ...sign('/pay'), 'content-length': '0' }))), 'ok');
  // Passed, even empty, the bytes are what count.
  t.is(await code(verify('/pay', { ...sign('/pay'), 'content-length': '14' }, new Uint8Array(0))), 'ok');
});
