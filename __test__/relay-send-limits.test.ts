/**
 * Send rate limits of the relay server: per (sender, recipient) pair and per
 * sender, RATE_LIMITED with the wait, nothing stored for a refused send, and
 * another pair or sender unaffected.
 */
import test from 'ava';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { IdentityKey } from '../src/session';
import { clientMessageId, fingerprint, startRelay, text, transports } from './support/relay-harness';

for (const transport of transports) {
  test(`sends past a pair's or a sender's limit are RATE_LIMITED with the wait and store nothing (${transport})`, async (t) => {
    const perPair = new RateLimiterMemory({ points: 3, duration: 60 });
    const perSender = new RateLimiterMemory({ points: 5, duration: 60 });
    const relay = await startRelay(t, { server: { sendRateLimiters: { perPair, perSender } } });
    const [bob, carol] = [IdentityKey.generate(), IdentityKey.generate()];
    await relay.connect(transport, bob);
    await relay.connect(transport, carol);
    const a = await relay.connect(transport);
    const send = (to: IdentityKey) => a.request({ type: 'Send', clientMessageId: clientMessageId(), recipient: to.publicKey, device: 1, body: text('x') });
    for (let i = 0; i < 3; i++) await send(bob);
    const pair = (await t.throwsAsync(send(bob))) as Error & { code?: string; retryAfterMs?: number };
    t.is(pair.code, 'ERR_RELAY_RATE_LIMITED');
    t.true((pair.retryAfterMs ?? 0) > 50_000);
    // Another recipient is another pair, until the sender's own limit (5; the refused send counted too).
    await send(carol);
    t.is(((await t.throwsAsync(send(carol))) as { code?: string }).code, 'ERR_RELAY_RATE_LIMITED');
    const stored = await relay.store.pending({ identity: fingerprint(bob), device: 1 }, { limit: 10, now: Date.now() });
    t.is(stored.length, 3);
    // Another sender is not limited by a's sends.
    const d = await relay.connect(transport);
    await d.request({ type: 'Send', clientMessageId: clientMessageId(), recipient: bob.publicKey, device: 1, body: text('y') });
  });
}
