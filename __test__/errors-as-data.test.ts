/**
 * Issue 14, item 3: native errors carry their code and fields as properties
 * (crates/node/src/errors.rs), not inside the message; one invalid-state
 * class; the literal unions come from the binding's names.
 */
import test from 'ava';
import { fromNative, type InvalidStateErrorCode, SessionError, type SessionErrorCode } from '../src/errors';
import {
  hashPassword,
  InvalidStateError,
  PopError,
  type PopErrorCode,
  SecretKey,
  ServerSetup,
  StateError,
  seal,
  suites,
  TimestampExpiredError,
  verifyPassword,
} from '../src/index';
import { binding } from '../src/native';

const at = (ms: number) => () => ms;

test('the binding throws code and expiredBy as properties, not in the message (sync and Promise paths)', async (t) => {
  const key = SecretKey.generate();
  const box = seal(key, 'v', { clock: at(1_000_000) });
  const out = new Uint8Array(box.byteLength - binding.BOX_OVERHEAD);
  const sync = t.throws(() => binding.openBoxInto(key.handle, box, new Uint8Array(0), 60_000, 1_062_500, out)) as Error & { code?: string; expiredBy?: number };
  t.is(sync.code, 'ERR_TIMESTAMP_EXPIRED');
  t.is(sync.expiredBy, 2.5);
  t.notRegex(sync.message, /\[ERR_/);

  const hash = await hashPassword('pw', { params: { memory: 64, iterations: 1, parallelism: 1 }, clock: at(1_000_000) });
  const pw = Buffer.from('pw');
  const later = binding.verifyPassword(hash, pw, { ttlMs: 5_000 }, 1_010_000);
  const rejected = (await t.throwsAsync(later)) as Error & { code?: string; expiredBy?: number };
  t.is(rejected.code, 'ERR_TIMESTAMP_EXPIRED');
  t.is(rejected.expiredBy, 5);
  const typed = await t.throwsAsync(verifyPassword(hash, 'pw', { ttl: 5, clock: at(1_010_000) }), { instanceOf: TimestampExpiredError });
  t.is(typed?.expiredBy, 5);
});

test('every disposed object throws one class with one code; StateError is that class', (t) => {
  t.is(StateError, InvalidStateError);
  const setup = ServerSetup.generate();
  setup.dispose();
  const key = SecretKey.generate();
  key.dispose();
  for (const use of [() => setup.publicKey, () => key.exportBytes()]) {
    t.throws(use, { instanceOf: InvalidStateError, code: 'ERR_INVALID_STATE' } as never);
  }
});

test("the suite list is the binding's, and each name round-trips through a setup", (t) => {
  t.deepEqual([...suites], Object.values(binding.Suite));
  t.is(suites.length, 5);
  for (const suite of suites) t.is(ServerSetup.generate(suite).suite, suite);
});

test("PopErrorCode is the PoP core's refusal codes and the verifier's ERR_POP_BODY_MISSING, no more", (t) => {
  // The public union, pinned: tsc --noEmit fails if the derived type gains or loses a code.
  const codes: Record<PopErrorCode, 401 | 429> = {
    ERR_POP_STALE: 401,
    ERR_POP_REPLAY: 401,
    ERR_POP_BAD_MAC: 401,
    ERR_POP_NO_SESSION: 401,
    ERR_POP_BODY_MISSING: 401,
    ERR_POP_RATE_LIMITED: 429,
  };
  const fromCore = new Set(binding.popRefusals().map((r) => r.code));
  t.deepEqual(Object.keys(codes).sort(), [...fromCore, 'ERR_POP_BODY_MISSING'].sort());
  for (const [code, status] of Object.entries(codes) as [PopErrorCode, 401 | 429][]) t.is(new PopError('m', code).status, status, code);
});

test("SessionErrorCode and InvalidStateErrorCode are the cores' codes (and the replay guard's), no more; each maps to its class", (t) => {
  // The public unions, pinned: tsc --noEmit fails if a derived type gains or loses a code.
  const session: Record<SessionErrorCode, true> = {
    ERR_SESSION_FORMAT: true,
    ERR_SESSION_HANDSHAKE: true,
    ERR_SESSION_UNEXPECTED_PEER: true,
    ERR_SESSION_BAD_SIGNATURE: true,
    ERR_SESSION_PREKEY_REUSED: true,
    ERR_SESSION_UNKNOWN_PREKEY: true,
    ERR_SESSION_DUPLICATE: true,
    ERR_SESSION_TOO_FAR_AHEAD: true,
    ERR_SESSION_KEY_EXPIRED: true,
    ERR_SESSION_RANDOM: true,
    ERR_SESSION_REPLAY: true,
  };
  const fromCore = Object.values(binding.SessionErrorCode).filter((code) => code.startsWith('ERR_SESSION_'));
  t.deepEqual(Object.keys(session).sort(), [...fromCore, 'ERR_SESSION_REPLAY'].sort());
  const invalidState: Record<InvalidStateErrorCode, true> = { ERR_INVALID_STATE: true, ERR_OPAQUE_INVALID_STATE: true };
  const native = (code: string) => fromNative(Object.assign(new Error('m'), { code }));
  for (const code of fromCore) t.true(native(code) instanceof SessionError, code);
  for (const code of Object.keys(invalidState) as InvalidStateErrorCode[]) t.is((native(code) as InvalidStateError).code, code);
});
