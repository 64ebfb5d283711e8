/**
 * A PoP refusal carries its HTTP status: an Express app without keyward's
 * error handler still answers 401 (Express's default handler reads
 * `status`), and a session over its nonce cap maps to 429 with Retry-After.
 */

import type { AddressInfo } from 'node:net';
import test from 'ava';
import express from 'express';
import { requirePop } from '../src/express/index';
import { httpFailure } from '../src/http/errors';
import { createAuthService, MemoryStore, PopError, SecretKey, ServerSetup } from '../src/index';

test('Express without keywardErrorHandler: an unsigned request to a requirePop route is 401, not 500', async (t) => {
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate() });
  const app = express();
  app.post('/api/transfer', requirePop(service), (_req, res) => void res.json({ ok: true }));
  const listener = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const l = app.listen(0, '127.0.0.1', () => resolve(l));
  });
  t.teardown(() => new Promise<void>((r) => listener.close(() => r())));
  const { port } = listener.address() as AddressInfo;
  const answer = await fetch(`http://127.0.0.1:${port}/api/transfer`, {
    method: 'POST',
    headers: { authorization: 'Bearer nobody' },
    signal: AbortSignal.timeout(20_000),
  });
  t.is(answer.status, 401);
});

test('PopError status: 429 with Retry-After for a session over its nonce cap, 401 with WWW-Authenticate for every other code', (t) => {
  const limited = httpFailure(new PopError('too many', 'ERR_POP_RATE_LIMITED'))!;
  t.is(limited.status, 429);
  t.true(Number(limited.headers['retry-after']) >= 1);
  t.is(limited.body.error.code, 'ERR_POP_RATE_LIMITED');
  for (const code of ['ERR_POP_STALE', 'ERR_POP_REPLAY', 'ERR_POP_BAD_MAC', 'ERR_POP_NO_SESSION', 'ERR_POP_BODY_MISSING'] as const) {
    const error = new PopError('refused', code);
    t.is(error.status, 401, code);
    const answer = httpFailure(error)!;
    t.is(answer.status, 401, code);
    t.regex(answer.headers['www-authenticate'], /^Bearer realm="keyward"/, code);
  }
});

test("a refusal as stale carries the verifier's time (for a client to measure its clock skew); no other refusal does", (t) => {
  const stale = httpFailure(new PopError('refused', 'ERR_POP_STALE', { serverTime: 1_700_000_000_123 }))!;
  t.is(stale.body.error.serverTime, 1_700_000_000_123);
  for (const code of ['ERR_POP_REPLAY', 'ERR_POP_BAD_MAC', 'ERR_POP_NO_SESSION', 'ERR_POP_BODY_MISSING', 'ERR_POP_RATE_LIMITED'] as const) {
    t.false('serverTime' in httpFailure(new PopError('refused', code))!.body.error, code);
  }
});
