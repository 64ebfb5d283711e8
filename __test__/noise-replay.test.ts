/**
 * Issue 13, finding 5: Noise_IK message 1 is a self-contained authenticated
 * packet, so `Session.respond` accepted a recorded copy again and delivered
 * its payload twice. The replay guard refuses the copy.
 */
import test from 'ava';
import { IdentityKey, InvalidArgumentError, MemoryReplayGuard, type ReplayGuard, Session, SessionError } from '../src/index';

const text = (b: Uint8Array) => Buffer.from(b).toString();

function firstMessage(to: IdentityKey, payload = 'transfer 100') {
  return Session.initiate(IdentityKey.generate(), to.publicKey, { payload });
}

function replayCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof SessionError ? error.code : String(error);
  }
  return undefined;
}

test('the same first message twice: the second is refused and its payload not delivered (default guard)', (t) => {
  const bob = IdentityKey.generate();
  const { session: alice, message } = firstMessage(bob);
  const r = Session.respond(bob, message);
  t.is(text(r.payload), 'transfer 100');
  t.is(
    replayCode(() => Session.respond(bob, message)),
    'ERR_SESSION_REPLAY',
  );
  // The genuine exchange still completes.
  alice.complete(r.reply);
  t.is(text(r.session.decrypt(alice.encrypt('after'))), 'after');
});

test('two different initiators, and two starts from one initiator, are all answered', (t) => {
  const bob = IdentityKey.generate();
  const guard = new MemoryReplayGuard();
  const carol = IdentityKey.generate();
  const messages = [firstMessage(bob).message, firstMessage(bob).message];
  messages.push(Session.initiate(carol, bob.publicKey).message, Session.initiate(carol, bob.publicKey).message);
  for (const m of messages) t.truthy(Session.respond(bob, m, { replayGuard: guard }).session);
  t.is(guard.size, 4);
});

test('a copy is refused within the window and accepted after it (injected clock)', (t) => {
  let now = 1_000_000;
  const guard = new MemoryReplayGuard({ clock: () => now });
  const bob = IdentityKey.generate();
  const { message } = firstMessage(bob);
  const options = { replayGuard: guard, replayWindowMs: 60_000 };
  Session.respond(bob, message, options);
  now += 59_999;
  t.is(
    replayCode(() => Session.respond(bob, message, options)),
    'ERR_SESSION_REPLAY',
  );
  now += 1;
  t.is(text(Session.respond(bob, message, options).payload), 'transfer 100');
});

test('two responders sharing one guard: a message answered by one is refused by the other', (t) => {
  const bob = IdentityKey.generate();
  const shared = new MemoryReplayGuard();
  const instanceA = { replayGuard: shared };
  const instanceB = { replayGuard: shared };
  const { message } = firstMessage(bob);
  Session.respond(bob, message, instanceA);
  t.is(
    replayCode(() => Session.respond(bob, message, instanceB)),
    'ERR_SESSION_REPLAY',
  );
});

test('an asynchronous shared guard (a store) through respondAsync', async (t) => {
  const seen = new Map<string, number>();
  const store: ReplayGuard = {
    add: async (key, ttlMs) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (seen.has(key)) return false;
      seen.set(key, ttlMs);
      return true;
    },
  };
  const bob = IdentityKey.generate();
  const { message } = firstMessage(bob);
  const r = await Session.respondAsync(bob, message, { replayGuard: store, replayWindowMs: 5_000 });
  t.is(text(r.payload), 'transfer 100');
  t.deepEqual([...seen.values()], [5_000]);
  t.true([...seen.keys()][0]!.startsWith('keyward:noise-ik:'));
  const replayed = await t.throwsAsync(Session.respondAsync(bob, message, { replayGuard: store }), { instanceOf: SessionError });
  t.is(replayed?.code, 'ERR_SESSION_REPLAY');
  // The synchronous respond cannot wait for a store: a clear error, not a silent pass.
  t.throws(() => Session.respond(bob, firstMessage(bob).message, { replayGuard: store }), { instanceOf: InvalidArgumentError });
});

test('a message that does not authenticate never reaches the guard', (t) => {
  const bob = IdentityKey.generate();
  const guard = new MemoryReplayGuard();
  const { message } = firstMessage(bob);
  const forged = Uint8Array.from(message);
  forged[forged.length - 1]! ^= 1;
  t.is(
    replayCode(() => Session.respond(bob, forged, { replayGuard: guard })),
    'ERR_SESSION_HANDSHAKE',
  );
  t.is(guard.size, 0);
  // The honest message with the same ephemeral is still answered.
  t.truthy(Session.respond(bob, message, { replayGuard: guard }).session);
});

test('replayGuard: false opts out; bad options are typed errors', (t) => {
  const bob = IdentityKey.generate();
  const { message } = firstMessage(bob);
  Session.respond(bob, message, { replayGuard: false });
  Session.respond(bob, message, { replayGuard: false });
  t.throws(() => Session.respond(bob, message, { replayGuard: {} as ReplayGuard }), { instanceOf: InvalidArgumentError });
  t.throws(() => Session.respond(bob, message, { replayWindowMs: 0 }), { instanceOf: InvalidArgumentError });
  t.throws(() => new MemoryReplayGuard({ maxEntries: 0 }), { instanceOf: InvalidArgumentError });
});

test('the in-process guard is bounded: at its cap the oldest key goes first', (t) => {
  const guard = new MemoryReplayGuard({ maxEntries: 2, clock: () => 0 });
  t.true(guard.add('a', 10));
  t.true(guard.add('b', 10));
  t.false(guard.add('a', 10));
  t.true(guard.add('c', 10));
  t.is(guard.size, 2);
  t.true(guard.add('a', 10)); // evicted to make room for c
  t.false(guard.add('c', 10));
});
