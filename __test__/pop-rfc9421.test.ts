/**
 * keyward's RFC 9421 profile from TypeScript: the Node signer (in Rust) and the
 * web signer (WebCrypto, run here on Node's globalThis.crypto) reproduce
 * docs/pop-vectors.json, which the Rust core made; the verifier accepts every
 * vector in both forms and refuses the vectors' refusals with their codes;
 * `forms` turns either form off.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { derivePopKey, MemoryReplayCache, type PopKey, PopVerifier, type ReplayCache, signRequest, signRequestRfc9421 } from '../src/index';
import { derivePopKey as deriveWebKey, signHeaders, signRfc9421Headers } from '../src/web/pop';
import { popOutcome } from './support/pop-outcome';

interface VectorRequest {
  method: string;
  origin: string;
  target: string;
  bodyBase64: string;
  nonce?: string;
}
interface Vectors {
  sessionKeyHex: string;
  sessionId: string;
  popKeyHex: string;
  nowMs: number;
  windowMs: number;
  cases: {
    name: string;
    request: VectorRequest & { nonce: string };
    keyward: { timestamp: number; headers: Record<string, string> };
    rfc9421: { created: number; components: 'target-uri' | 'path-query'; signatureBase: string; headers: Record<string, string> };
  }[];
  refusals: { name: string; request: VectorRequest; headers: Record<string, string>; code: string }[];
}

const vectors = JSON.parse(readFileSync(join(__dirname, '../docs/pop-vectors.json'), 'utf8')) as Vectors;
const sessionKey = Buffer.from(vectors.sessionKeyHex, 'hex');
const body = (r: VectorRequest) => Buffer.from(r.bodyBase64, 'base64');
const bearer = `Bearer ${vectors.sessionId}`;

function verifier(options: { forms?: ('keyward' | 'rfc9421')[]; replayCache?: ReplayCache; origin?: string } = {}) {
  const popKey = derivePopKey(sessionKey, vectors.sessionId);
  return new PopVerifier({ lookup: (id) => (id === vectors.sessionId ? { popKey } : undefined), clock: () => vectors.nowMs, ...options });
}

/** The request as a server receives it: path and query only, unless `full`. */
const received = (r: VectorRequest, headers: Record<string, string>, full = true) => ({
  method: r.method,
  url: full ? `${r.origin}${r.target}` : r.target,
  headers: { authorization: bearer, ...headers },
  body: body(r).length > 0 ? body(r) : undefined,
});

test('the vectors are the ones the Rust core made', (t) => {
  t.true(vectors.cases.length >= 4);
  t.true(vectors.refusals.length >= 5);
  t.is(derivePopKey(sessionKey, vectors.sessionId).sessionId, vectors.sessionId);
});

test('the Node client signs the vectors byte for byte, in both forms', (t) => {
  const popKey: PopKey = derivePopKey(sessionKey, vectors.sessionId);
  for (const v of vectors.cases) {
    const r = v.request;
    const keyward = signRequest(popKey, { method: r.method, url: r.target, body: body(r), timestamp: v.keyward.timestamp, nonce: r.nonce });
    t.deepEqual(keyward, { authorization: bearer, ...v.keyward.headers }, v.name);
    const rfc = signRequestRfc9421(popKey, {
      method: r.method,
      url: `${r.origin}${r.target}`,
      body: body(r),
      timestamp: v.rfc9421.created * 1000 + 999,
      nonce: r.nonce,
      components: v.rfc9421.components,
    });
    t.deepEqual(rfc, { authorization: bearer, ...v.rfc9421.headers }, v.name);
  }
});

test('the web client (WebCrypto) signs the vectors byte for byte, in both forms', async (t) => {
  const key = await deriveWebKey(new Uint8Array(sessionKey), vectors.sessionId);
  for (const v of vectors.cases) {
    const r = v.request;
    const keyward = await signHeaders({
      key,
      bearer: vectors.sessionId,
      method: r.method,
      target: r.target,
      body: new Uint8Array(body(r)),
      timestamp: v.keyward.timestamp,
      nonce: r.nonce,
    });
    t.deepEqual(keyward, { authorization: bearer, ...v.keyward.headers }, v.name);
    const rfc = await signRfc9421Headers({
      key,
      bearer: vectors.sessionId,
      keyId: vectors.sessionId,
      method: r.method,
      url: new URL(`${r.origin}${r.target}`),
      body: new Uint8Array(body(r)),
      timestamp: v.rfc9421.created * 1000,
      nonce: r.nonce,
      pathAndQuery: v.rfc9421.components === 'path-query',
    });
    t.deepEqual(rfc, { authorization: bearer, ...v.rfc9421.headers }, v.name);
  }
});

test('the verifier accepts every vector in both forms, and refuses the refusals with their codes', async (t) => {
  for (const v of vectors.cases) {
    t.is(await popOutcome(verifier().verify(received(v.request, v.keyward.headers, false))), 'ok', v.name);
    t.is(await popOutcome(verifier().verify(received(v.request, v.rfc9421.headers))), 'ok', v.name);
    // A path-and-query signature needs no origin; a target-uri one needs the right one.
    const pathOnly = await popOutcome(verifier().verify(received(v.request, v.rfc9421.headers, false)));
    t.is(pathOnly, v.rfc9421.components === 'path-query' ? 'ok' : 'ERR_POP_BAD_MAC', v.name);
    const configured = verifier({ origin: v.request.origin });
    t.is(await popOutcome(configured.verify(received(v.request, v.rfc9421.headers, false))), 'ok', v.name);
    const elsewhere = verifier({ origin: 'https://elsewhere.example' });
    t.is(
      await popOutcome(elsewhere.verify(received(v.request, v.rfc9421.headers, false))),
      v.rfc9421.components === 'path-query' ? 'ok' : 'ERR_POP_BAD_MAC',
      v.name,
    );
  }
  for (const v of vectors.refusals) {
    t.is(await popOutcome(verifier().verify(received(v.request, v.headers))), v.code, v.name);
  }
});

test('a nonce passes once, in the in-process and in a shared replay cache, across both forms', async (t) => {
  const seen = new Set<string>();
  const shared: ReplayCache = { add: (key) => !seen.has(key) && Boolean(seen.add(key)) };
  for (const replayCache of [new MemoryReplayCache({ clock: () => vectors.nowMs }), shared]) {
    const v = verifier({ replayCache });
    const c = vectors.cases[1];
    t.is(await popOutcome(v.verify(received(c.request, c.rfc9421.headers))), 'ok');
    t.is(await popOutcome(v.verify(received(c.request, c.rfc9421.headers))), 'ERR_POP_REPLAY');
    // The same nonce in the X-POP form was spent too.
    t.is(await popOutcome(v.verify(received(c.request, c.keyward.headers, false))), 'ERR_POP_REPLAY');
  }
  t.true(seen.has(`${vectors.sessionId}:${vectors.cases[1].request.nonce}`));
});

test('forms turns either form off, and a body must be passed in either form', async (t) => {
  const c = vectors.cases[1];
  const rfcOnly = verifier({ forms: ['rfc9421'] });
  t.is(await popOutcome(rfcOnly.verify(received(c.request, c.keyward.headers, false))), 'ERR_POP_BAD_MAC');
  t.is(await popOutcome(rfcOnly.verify(received(c.request, c.rfc9421.headers))), 'ok');
  const keywardOnly = verifier({ forms: ['keyward'] });
  t.is(await popOutcome(keywardOnly.verify(received(c.request, c.rfc9421.headers))), 'ERR_POP_BAD_MAC');
  t.throws(() => verifier({ forms: [] }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => verifier({ forms: ['x' as 'keyward'] }), { code: 'ERR_INVALID_ARG_VALUE' });
  const noBody = { ...received(c.request, { ...c.rfc9421.headers, 'content-length': '12' }), body: undefined };
  t.is(await popOutcome(verifier().verify(noBody)), 'ERR_POP_BODY_MISSING');
  // Signature-Input without a bearer names no session.
  const anonymous = received(c.request, c.rfc9421.headers);
  t.is(await popOutcome(verifier().verify({ ...anonymous, headers: { ...c.rfc9421.headers } })), 'ERR_POP_NO_SESSION');
});

test('the Node signer refuses what the profile would refuse', (t) => {
  const popKey = derivePopKey(sessionKey, vectors.sessionId);
  const sign = (extra: object) => () => signRequestRfc9421(popKey, { method: 'GET', url: 'https://api.example.com/p', ...extra });
  t.throws(sign({ nonce: 'short' }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(sign({ timestamp: -1 }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(sign({ url: '/p', components: 'target-uri' }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(sign({ components: 'other' }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.notThrows(sign({ url: '/p' }));
});
