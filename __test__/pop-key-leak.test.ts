/** A PopKey holds a bearer token and a key handle; printed or serialized it shows only its session id. */

import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import test from 'ava';
import { derivePopKey, PopKey, signRequest } from '../src/index';

const TOKEN = 'sealed.session.token.SECRET-TOKEN-abcdefghijklmnop';

test('JSON.stringify shows only the session id', (t) => {
  const key = derivePopKey(randomBytes(64), 'sess-1', { bearer: TOKEN });
  t.is(JSON.stringify(key), '{"sessionId":"sess-1"}');
  const nested = JSON.stringify({ auth: { username: 'alice', popKey: key } });
  t.false(nested.includes('SECRET-TOKEN'));
  t.true(nested.includes('sess-1'));
});

test('util.inspect and console-style formatting show only the session id', (t) => {
  const key = PopKey.fromBytes(derivePopKey(randomBytes(64), 'sess-1').exportBytes(), 'sess-1', { bearer: TOKEN });
  t.is(inspect(key), "PopKey { sessionId: 'sess-1' }");
  for (const shown of [inspect({ session: { popKey: key } }, { depth: 10 }), inspect(key, { showHidden: true }), `${inspect([key])}`]) {
    t.false(shown.includes('SECRET-TOKEN'), shown);
    t.false(shown.includes(String(key.handle)), shown);
  }
});

test('the bearer is not an own property, but still signs', (t) => {
  const key = derivePopKey(randomBytes(64), 'sess-1', { bearer: TOKEN });
  t.false(Object.keys(key).includes('bearer'));
  t.false(JSON.stringify({ ...key }).includes('SECRET-TOKEN'));
  t.is(key.bearer, TOKEN);
  t.is(signRequest(key, { method: 'GET', url: '/x' }).authorization, `Bearer ${TOKEN}`);
});
