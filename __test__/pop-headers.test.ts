/**
 * The PoP header grammar from JavaScript: the vectors crates/pop's own tests
 * run (crates/pop/tests/header-vectors.txt) go through the verifier and the
 * signer here, and must get the same answer, on both the in-process and a
 * shared replay cache's path.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { derivePopKey, InvalidArgumentError, PopVerifier, type ReplayCache, signRequest } from '../src/index';
import { binding } from '../src/native';
import { popOutcome } from './support/pop-outcome';

const NOW = 1_800_000_000_000;

type Vector = { kind: string; accept: boolean; value: string };

function decode(value: string): string {
  if (value.startsWith('hex:')) return Buffer.from(value.slice(4), 'hex').toString('utf8');
  const repeat = /^repeat:(\d+):(.*)$/s.exec(value);
  return repeat ? repeat[2].repeat(Number(repeat[1])) : value;
}

const vectors: Vector[] = readFileSync(join(__dirname, '../crates/pop/tests/header-vectors.txt'), 'utf8')
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => {
    const [kind, verdict, ...rest] = line.split('\t');
    return { kind, accept: verdict === 'accept', value: decode(rest.join('\t')) };
  });

const of = (kind: string) => vectors.filter((v) => v.kind === kind);
const show = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}…(${value.length})` : value);

const sharedCache = (): ReplayCache => {
  const seen = new Set<string>();
  return { add: (key: string) => !seen.has(key) && Boolean(seen.add(key)) };
};

function setup(replayCache: ReplayCache | undefined, clock: number) {
  const sessionKey = randomBytes(64);
  const clientKey = derivePopKey(sessionKey, 'sess-1');
  const serverKey = derivePopKey(sessionKey, 'sess-1');
  const looked: string[] = [];
  const verifier = new PopVerifier({
    lookup: (bearer) => (looked.push(bearer), bearer === 'sess-1' ? { popKey: serverKey } : undefined),
    clock: () => clock,
    ...(replayCache ? { replayCache } : {}),
  });
  const request = { method: 'POST', url: '/api/transfer?to=bob', body: '{"amount":5}' };
  const sign = (extra?: { timestamp?: number; nonce?: string }) => signRequest(clientKey, { ...request, timestamp: clock, ...extra });
  const verify = (headers: Record<string, string>) => verifier.verify({ ...request, headers });
  return { clientKey, sign, verify, looked };
}

const outcome = popOutcome;

test('the shared vectors are there, of every kind', (t) => {
  for (const kind of ['ts', 'nonce', 'mac', 'bearer']) t.true(of(kind).length >= 5, kind);
});

for (const [path, cache] of [
  ['in-process cache', () => undefined],
  ['shared cache', sharedCache],
] as const) {
  test(`${path}: X-TS is canonical decimal from 0 to 2^53 - 1, as in Rust`, async (t) => {
    for (const { accept, value } of of('ts')) {
      const numeric = /^\d+$/.test(value) ? Math.min(Number(value), 2 ** 53) : NOW;
      if (accept) {
        // Signed at that time, checked at that time: the header is the vector's text.
        const { sign, verify } = setup(cache(), numeric);
        const headers = sign({ timestamp: numeric });
        t.is(headers['x-ts'], value);
        t.is(await outcome(verify(headers)), 'ok', show(value));
      } else {
        // The clock at the value itself, so only the form can refuse it.
        const { sign, verify } = setup(cache(), numeric);
        const headers = { ...sign({ timestamp: NOW }), 'x-ts': value };
        const result = await outcome(verify(headers));
        // A line break in a header moves the joined fields: refused by whichever check meets it first.
        if (value.includes('\n')) t.true(['ERR_POP_STALE', 'ERR_POP_REPLAY'].includes(result), show(value));
        else t.is(result, 'ERR_POP_STALE', show(value));
      }
    }
  });

  test(`${path}: X-NONCE is 8-128 bytes of visible ASCII, as in Rust; the signer refuses the same`, async (t) => {
    for (const { accept, value } of of('nonce')) {
      const { sign, verify } = setup(cache(), NOW);
      if (accept) {
        t.is(await outcome(verify(sign({ nonce: value }))), 'ok', show(value));
      } else {
        t.throws(() => sign({ nonce: value }), { instanceOf: InvalidArgumentError }, show(value));
        t.is(await outcome(verify({ ...sign(), 'x-nonce': value })), 'ERR_POP_REPLAY', show(value));
      }
    }
  });

  test(`${path}: X-POP is the MAC in 43 characters of canonical base64url, as in Rust`, async (t) => {
    const { sign, verify } = setup(cache(), NOW);
    // From outside, a well-formed wrong MAC and a malformed one are both a bad MAC.
    for (const { value } of of('mac')) t.is(await outcome(verify({ ...sign(), 'x-pop': value })), 'ERR_POP_BAD_MAC', show(value));
    // The genuine MAC has one text: padded, longer, or with the unused low bits set, it is refused.
    const headers = sign();
    const mac = headers['x-pop'];
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(mac[42]);
    const lowBits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last | 1];
    for (const other of [`${mac}=`, `${mac}A`, mac.slice(0, 42), `${mac.slice(0, 42)}${lowBits}`]) {
      t.is(await outcome(verify({ ...headers, 'x-pop': other })), 'ERR_POP_BAD_MAC', other);
    }
    t.is(await outcome(verify(headers)), 'ok');
  });
}

test('Authorization: "Bearer " then 1-4096 bytes reaches the lookup, as in Rust; anything else does not', async (t) => {
  for (const { accept, value } of of('bearer')) {
    const { sign, verify, looked } = setup(undefined, NOW);
    const result = await outcome(verify({ ...sign(), authorization: value }));
    if (accept) {
      t.deepEqual(looked, [value.slice('Bearer '.length)], show(value));
      t.is(result, value === 'Bearer sess-1' ? 'ok' : 'ERR_POP_NO_SESSION', show(value));
    } else {
      t.deepEqual(looked, [], show(value));
      t.is(result, 'ERR_POP_NO_SESSION', show(value));
    }
  }
});

test('the signer refuses a timestamp of 2^53 or more, and other non-timestamps', (t) => {
  const key = derivePopKey(randomBytes(32), 'abc');
  const request = { method: 'GET', url: '/x', nonce: 'nonce-123' };
  t.is(signRequest(key, { ...request, timestamp: 2 ** 53 - 1 })['x-ts'], '9007199254740991');
  for (const bad of [2 ** 53, 2 ** 60, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5' as never]) {
    t.throws(() => signRequest(key, { ...request, timestamp: bad }), { instanceOf: InvalidArgumentError }, String(bad));
  }
  t.throws(() => signRequest(key, { ...request, nonce: 5 as never }), { instanceOf: InvalidArgumentError });
});

test('the binding exports the grammar limits that docs/pop.md names', (t) => {
  t.is(binding.POP_BEARER_PREFIX, 'Bearer ');
  t.is(binding.POP_MAX_BEARER_BYTES, 4096);
  t.is(binding.POP_NONCE_MIN_BYTES, 8);
  t.is(binding.POP_NONCE_MAX_BYTES, 128);
  t.is(binding.POP_MAX_TIMESTAMP_MS, Number.MAX_SAFE_INTEGER);
  t.is(binding.POP_MAC_CHARS, 43);
  t.is(binding.POP_DEFAULT_MAX_NONCES_PER_SESSION, 100_000);
});
