import { randomBytes } from 'node:crypto';
import test from 'ava';
import {
  derivePopKey,
  InvalidArgumentError,
  MemoryReplayCache,
  PopError,
  type PopHeaders,
  PopKey,
  PopVerifier,
  type ReplayCache,
  signRequest,
} from '../src/index';

const NOW = 1_800_000_000_000;

function setup(options?: { windowMs?: number; replayCache?: ReplayCache }) {
  const sessionKey = randomBytes(64);
  const clientKey = derivePopKey(sessionKey, 'sess-1');
  const serverKey = derivePopKey(sessionKey, 'sess-1');
  const sessions = new Map([['sess-1', { popKey: serverKey, user: 'alice' }]]);
  let now = NOW;
  const verifier = new PopVerifier({ lookup: (id) => sessions.get(id), clock: () => now, ...options });
  const sign = (extra?: Partial<Parameters<typeof signRequest>[1]>) =>
    signRequest(clientKey, { method: 'POST', url: '/api/transfer?to=bob&amount=5', body: '{"memo":"rent"}', timestamp: now, ...extra });
  const verify = (headers: PopHeaders | Record<string, string>, extra?: { method?: string; url?: string; body?: string }) =>
    verifier.verify({ method: 'POST', url: '/api/transfer?to=bob&amount=5', body: '{"memo":"rent"}', headers, ...extra });
  return { clientKey, serverKey, sessions, verifier, sign, verify, tick: (ms: number) => (now += ms) };
}

async function code(t: { throwsAsync: Function }, promise: Promise<unknown>, expected: string) {
  const error = await (t.throwsAsync as (p: Promise<unknown>, e: object) => Promise<PopError>)(promise, { instanceOf: PopError });
  return error?.code === expected;
}

test('a signed request verifies and resolves to its session', async (t) => {
  const { sign, verify } = setup();
  const headers = sign();
  t.regex(headers['x-pop'], /^[A-Za-z0-9_-]{43}$/);
  t.is(headers.authorization, 'Bearer sess-1');
  const session = await verify(headers);
  t.is(session.user, 'alice');
  t.is(session.sessionId, 'sess-1');
});

test('a full URL signs its path and query; the case of the method does not matter; the order of query parameters does', async (t) => {
  const { sign, verify } = setup();
  await t.notThrowsAsync(verify(sign({ url: 'https://api.example/api/transfer?to=bob&amount=5' })));
  await t.notThrowsAsync(verify(sign({ method: 'post' })));
  t.true(await code(t, verify(sign({ url: 'https://api.example/api/transfer?amount=5&to=bob' })), 'ERR_POP_BAD_MAC'));
});

test('ERR_POP_NO_SESSION: unknown, missing or revoked session', async (t) => {
  const { sign, verify, sessions } = setup();
  const headers = sign();
  t.true(await code(t, verify({ ...headers, authorization: 'Bearer sess-2' }), 'ERR_POP_NO_SESSION'));
  t.true(await code(t, verify({ ...headers, authorization: 'Basic abc' }), 'ERR_POP_NO_SESSION'));
  const { authorization: _, ...withoutAuth } = headers;
  t.true(await code(t, verify(withoutAuth), 'ERR_POP_NO_SESSION'));
  sessions.delete('sess-1');
  t.true(await code(t, verify(headers), 'ERR_POP_NO_SESSION'));
});

test('ERR_POP_STALE: too old, too far ahead, missing or malformed timestamp', async (t) => {
  const { sign, verify, tick } = setup({ windowMs: 30_000 });
  const old = sign();
  tick(30_001);
  t.true(await code(t, verify(old), 'ERR_POP_STALE'));
  t.true(await code(t, verify(sign({ timestamp: NOW + 30_001 + 30_001 })), 'ERR_POP_STALE'));
  t.true(await code(t, verify({ ...sign(), 'x-ts': 'soon' }), 'ERR_POP_STALE'));
  const { 'x-ts': _, ...withoutTs } = sign();
  t.true(await code(t, verify(withoutTs), 'ERR_POP_STALE'));
  await t.notThrowsAsync(verify(sign()));
});

test('ERR_POP_REPLAY: the same request twice, or a missing nonce', async (t) => {
  const { sign, verify } = setup();
  const headers = sign();
  await verify(headers);
  t.true(await code(t, verify(headers), 'ERR_POP_REPLAY'));
  const { 'x-nonce': _, ...withoutNonce } = sign();
  t.true(await code(t, verify(withoutNonce), 'ERR_POP_REPLAY'));
});

test('ERR_POP_BAD_MAC: tampered body, path, method, timestamp, or a token without the key', async (t) => {
  const { sign, verify, clientKey } = setup();
  t.true(await code(t, verify(sign(), { body: '{"memo":"rent!"}' }), 'ERR_POP_BAD_MAC'));
  t.true(await code(t, verify(sign(), { url: '/api/transfer?to=mallory&amount=5' }), 'ERR_POP_BAD_MAC'));
  t.true(await code(t, verify(sign(), { method: 'PUT' }), 'ERR_POP_BAD_MAC'));
  const moved = sign();
  t.true(await code(t, verify({ ...moved, 'x-ts': String(Number(moved['x-ts']) + 1) }), 'ERR_POP_BAD_MAC'));
  // Someone who stole the bearer token but not the key signs with a key of their own.
  const thief = derivePopKey(randomBytes(64), clientKey.sessionId);
  t.true(
    await code(
      t,
      verify(signRequest(thief, { method: 'POST', url: '/api/transfer?to=bob&amount=5', body: '{"memo":"rent"}', timestamp: NOW })),
      'ERR_POP_BAD_MAC',
    ),
  );
  t.true(await code(t, verify({ ...sign(), 'x-pop': 'not base64url!' }), 'ERR_POP_BAD_MAC'));
  const { 'x-pop': _, ...withoutMac } = sign();
  t.true(await code(t, verify(withoutMac), 'ERR_POP_BAD_MAC'));
});

/** A cache outside the process, as Redis is: asynchronous, keyed by strings. */
function externalCache(): ReplayCache & { keys: string[] } {
  const seen = new Set<string>();
  return {
    keys: [],
    async add(key: string) {
      this.keys.push(key);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
  };
}

for (const [name, cache] of [
  ['the in-process cache', () => undefined],
  ['an external cache', externalCache],
] as const) {
  test(`${name}: time and the MAC are checked before the nonce is spent; a line break makes it malformed`, async (t) => {
    const { sign, verify } = setup({ replayCache: cache() });
    const early = sign({ nonce: 'nonce-early', timestamp: NOW - 30_001 });
    t.true(await code(t, verify(early), 'ERR_POP_STALE'));
    const padded = sign({ nonce: 'nonce-padded' });
    t.true(await code(t, verify({ ...padded, 'x-ts': `0${padded['x-ts']}` }), 'ERR_POP_STALE'));
    await t.notThrowsAsync(verify(sign({ nonce: 'nonce-early' })));
    await t.notThrowsAsync(verify(padded));
    // A forgery under an honest request's nonce spends nothing: the honest request passes, once.
    const headers = sign();
    t.true(await code(t, verify(headers, { body: 'tampered' }), 'ERR_POP_BAD_MAC'));
    await t.notThrowsAsync(verify(headers));
    t.true(await code(t, verify(headers), 'ERR_POP_REPLAY'));
    const fresh = sign();
    t.true(await code(t, verify({ ...fresh, 'x-nonce': `${fresh['x-nonce']}\nx` }), 'ERR_POP_REPLAY'));
    await t.notThrowsAsync(verify(fresh));
    t.true(await code(t, verify(fresh), 'ERR_POP_REPLAY'));
  });
}

test('an external cache sees session-scoped nonce keys', async (t) => {
  const replayCache = externalCache();
  const { sign, verify } = setup({ replayCache });
  const headers = sign();
  await verify(headers);
  t.deepEqual(replayCache.keys, [`sess-1:${headers['x-nonce']}`]);
});

test('fetch-style Headers are accepted', async (t) => {
  const { sign, verify } = setup();
  await t.notThrowsAsync(verify(new Headers(sign() as unknown as Record<string, string>) as never));
});

test('keys export and come back; bad arguments are refused', (t) => {
  const key = derivePopKey(randomBytes(32), 'abc');
  const again = PopKey.fromBytes(key.exportBytes(), 'abc');
  const request = { method: 'GET', url: '/x', timestamp: NOW, nonce: 'nonce-123' };
  t.deepEqual(signRequest(key, request), signRequest(again, request));
  t.throws(() => derivePopKey(randomBytes(16), 'abc'), { instanceOf: InvalidArgumentError });
  t.throws(() => derivePopKey(randomBytes(32), 'has space'), { instanceOf: InvalidArgumentError });
  t.throws(() => signRequest(key, { ...request, method: 'GET /' }), { instanceOf: InvalidArgumentError });
  t.throws(() => signRequest(key, { ...request, nonce: 'short' }), { instanceOf: InvalidArgumentError });
  t.throws(() => new PopVerifier({} as never), { instanceOf: InvalidArgumentError });
});

test('a request without headers is an argument error, not a crash', async (t) => {
  const { verifier } = setup();
  await t.throwsAsync(verifier.verify({ method: 'GET', url: '/x' } as never), { instanceOf: InvalidArgumentError });
});

test('the memory replay cache forgets after its ttl and never refuses for want of room', (t) => {
  let now = 0;
  const cache = new MemoryReplayCache({ clock: () => now, maxNoncesPerSession: 2 });
  t.true(cache.add('a', 10));
  t.false(cache.add('a', 10));
  t.true(cache.add('b', 10));
  t.true(cache.add('c', 10)); // the per-session bound does not apply to plain keys; no size bound refuses
  now = 11;
  t.true(cache.add('c', 10));
  t.true(cache.add('a', 10));
  t.is(cache.size, 3);
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5' as never]) {
    t.throws(() => new MemoryReplayCache({ maxNoncesPerSession: bad }), { instanceOf: InvalidArgumentError });
  }
  // The largest bound is keyward_pop's LARGEST_MAX_PER_SCOPE, 2^32; the binding checks it.
  t.notThrows(() => new MemoryReplayCache({ maxNoncesPerSession: 2 ** 32 }));
  const over = t.throws(() => new MemoryReplayCache({ maxNoncesPerSession: 2 ** 32 + 1 }), { instanceOf: InvalidArgumentError });
  t.is(over?.message, 'options.maxNoncesPerSession must be a whole number from 1 to 4294967296, got 4294967297');
  t.throws(() => new MemoryReplayCache({ clock: 5 as never }), { instanceOf: InvalidArgumentError });
  t.throws(() => cache.add(5 as never, 10), { instanceOf: InvalidArgumentError });
  t.throws(() => cache.add('d', -1), { instanceOf: InvalidArgumentError });
  const badClock = new MemoryReplayCache({ clock: () => Number.NaN });
  t.throws(() => badClock.add('e', 10), { instanceOf: InvalidArgumentError });
});

test('a session id is 1 to 512 characters: the RFC 9421 keyid limit crates/pop exports', (t) => {
  const key = randomBytes(32);
  t.is(derivePopKey(key, 's'.repeat(512)).sessionId.length, 512);
  for (const id of ['', 's'.repeat(513)]) {
    const error = t.throws(() => derivePopKey(key, id), { instanceOf: InvalidArgumentError });
    t.is(error?.message, 'sessionId must be 1–512 characters of a bearer token (RFC 6750 b64token)');
  }
});

test("refusals carry keyward_pop's codes and messages; a stale one the server time", async (t) => {
  const { sign, verify, tick } = setup();
  const headers = sign();
  await verify(headers);
  const replay = await t.throwsAsync(verify(headers), { instanceOf: PopError });
  t.like(replay, { code: 'ERR_POP_REPLAY', message: 'this nonce was already used', status: 401, serverTime: undefined });
  const old = sign();
  const now = tick(10 * 60_000);
  const stale = await t.throwsAsync(verify(old), { instanceOf: PopError });
  t.like(stale, { code: 'ERR_POP_STALE', message: 'the request timestamp is missing or outside the window', serverTime: now });
  const tampered = await t.throwsAsync(verify(sign(), { body: '{"memo":"gift"}' }), { instanceOf: PopError });
  t.like(tampered, { code: 'ERR_POP_BAD_MAC', message: 'the request signature does not match', serverTime: undefined });
});
