/**
 * The order of the checks and the replay cache's limits: only requests whose
 * MAC verified reach the cache, a full cache never refuses an honest request,
 * and one session can hold only so many live nonces.
 */

import { randomBytes } from 'node:crypto';
import test from 'ava';
import { derivePopKey, InvalidArgumentError, MemoryReplayCache, type PopKey, PopVerifier, type ReplayCache, signRequest } from '../src/index';
import { popOutcome } from './support/pop-outcome';

const NOW = 1_800_000_000_000;

function sessionKeys(id: string) {
  const sessionKey = randomBytes(64);
  return { client: derivePopKey(sessionKey, id), server: derivePopKey(sessionKey, id) };
}

function setup(replayCache: ReplayCache, ids = ['sess-1']) {
  const keys = new Map(ids.map((id) => [id, sessionKeys(id)]));
  let now = NOW;
  const verifier = new PopVerifier({ lookup: (id) => (keys.has(id) ? { popKey: keys.get(id)!.server } : undefined), clock: () => now, replayCache });
  const request = { method: 'POST', url: '/api/transfer?to=bob', body: '{"amount":5}' };
  const sign = (extra?: { nonce?: string; id?: string }) =>
    signRequest(keys.get(extra?.id ?? 'sess-1')!.client as PopKey, { ...request, timestamp: now, nonce: extra?.nonce });
  const verify = (headers: Record<string, string>, extra?: { body?: string }) => verifier.verify({ ...request, headers, ...extra });
  return { sign, verify, tick: (ms: number) => (now += ms), now: () => now };
}

const code = popOutcome;

/** A cache outside the process, as Redis is: asynchronous, keyed by strings; counts what it is asked. */
function sharedCache() {
  const seen = new Set<string>();
  const cache = {
    asked: 0,
    get size() {
      return seen.size;
    },
    async add(key: string) {
      cache.asked += 1;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
  };
  return cache;
}

test('in-process cache: many bad-MAC requests leave the cache as it was and spend no nonce', async (t) => {
  const cache = new MemoryReplayCache({ clock: () => NOW });
  const { sign, verify } = setup(cache);
  t.is(await code(verify(sign({ nonce: 'warm-up-1' }))), 'ok');
  const before = cache.size;
  const honest = sign({ nonce: 'chosen-by-the-client' });
  for (let i = 0; i < 500; i++) {
    // Forgeries: a MAC of nobody's key, under fresh nonces and under the honest request's own.
    const nonce = i % 2 === 0 ? `forged-${i.toString().padStart(4, '0')}` : honest['x-nonce'];
    t.is(await code(verify({ ...honest, 'x-nonce': nonce, 'x-pop': randomBytes(32).toString('base64url') })), 'ERR_POP_BAD_MAC');
    // A tampered body under the genuine MAC is a forgery too.
    if (i % 100 === 0) t.is(await code(verify(honest, { body: '{"amount":500}' })), 'ERR_POP_BAD_MAC');
  }
  t.is(cache.size, before);
  // The honest request whose nonce the forgeries used still passes, once.
  t.is(await code(verify(honest)), 'ok');
  t.is(cache.size, before + 1);
  t.is(await code(verify(honest)), 'ERR_POP_REPLAY');
  // And a forged nonce, used later by an honest request, is no replay.
  t.is(await code(verify(sign({ nonce: 'forged-0000' }))), 'ok');
});

test('shared cache: it is asked only after the MAC verified', async (t) => {
  const cache = sharedCache();
  const { sign, verify } = setup(cache);
  const honest = sign();
  for (let i = 0; i < 200; i++) {
    t.is(await code(verify({ ...honest, 'x-pop': randomBytes(32).toString('base64url') })), 'ERR_POP_BAD_MAC');
  }
  t.is(await code(verify(honest, { body: 'tampered' })), 'ERR_POP_BAD_MAC');
  // Nor for a stale or malformed request.
  t.is(await code(verify({ ...honest, 'x-ts': '1' })), 'ERR_POP_STALE');
  t.is(await code(verify({ ...honest, 'x-nonce': 'short' })), 'ERR_POP_REPLAY');
  t.is(cache.asked, 0);
  t.is(cache.size, 0);
  t.is(await code(verify(honest)), 'ok');
  t.is(await code(verify(honest)), 'ERR_POP_REPLAY');
  t.is(cache.asked, 2);
  t.is(cache.size, 1);
});

test('the in-process cache never refuses an honest request for want of room', async (t) => {
  const cache = new MemoryReplayCache({ clock: () => NOW, maxNoncesPerSession: 1 });
  // More live keys than the old cache's fixed size (1 000 000), none expired: it grows.
  const n = 1_000_050;
  let refused = 0;
  for (let i = 0; i < n; i++) if (!cache.add(`login:${i}`, 60_000)) refused += 1;
  t.is(refused, 0);
  t.is(cache.size, n);
  // Live keys stay replays.
  t.false(cache.add('login:0', 60_000));
  t.false(cache.add(`login:${n - 1}`, 60_000));
  // Many sessions, each under its own bound.
  const ids = Array.from({ length: 50 }, (_, i) => `sess-${i}`);
  const { sign, verify } = setup(cache, ids);
  for (const id of ids) t.is(await code(verify(sign({ id }))), 'ok', id);
  t.is(cache.size, n + 50);
});

test('the in-process cache forgets a key once it expires, and then takes it again', (t) => {
  let now = 0;
  const cache = new MemoryReplayCache({ clock: () => now });
  t.true(cache.add('a', 10));
  t.false(cache.add('a', 10));
  now = 9;
  t.false(cache.add('a', 10));
  now = 10;
  t.true(cache.add('a', 10));
});

test('one session over its bound of live nonces is refused with ERR_POP_RATE_LIMITED, and only it', async (t) => {
  const cache = new MemoryReplayCache({ maxNoncesPerSession: 5 });
  const { sign, verify, tick } = setup(cache, ['busy', 'calm']);
  for (let i = 0; i < 5; i++) t.is(await code(verify(sign({ id: 'busy' }))), 'ok');
  const over = sign({ id: 'busy' });
  t.is(await code(verify(over)), 'ERR_POP_RATE_LIMITED');
  t.is(await code(verify(sign({ id: 'busy' }))), 'ERR_POP_RATE_LIMITED');
  // The refused nonce was not recorded, and other sessions go on.
  t.is(await code(verify(sign({ id: 'calm' }))), 'ok');
  // Once its nonces expire (twice the 30 s window), the session may go on.
  tick(60_000);
  t.is(await code(verify(sign({ id: 'busy' }))), 'ok');
});

test('maxNoncesPerSession is checked', (t) => {
  for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 33, '5' as never]) {
    t.throws(() => new MemoryReplayCache({ maxNoncesPerSession: bad }), { instanceOf: InvalidArgumentError }, String(bad));
  }
});
