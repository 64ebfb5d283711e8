/**
 * The relay server on PostgreSQL (`node scripts/with-services.mjs npx ava
 * __test__/relay-server-postgres.test.ts`): the delivery path and the
 * prekey path end to end over both transports, and two servers on one
 * database, where a message sent through one reaches a client fetching on
 * the other by the poll (no wake-up crosses instances yet).
 */

import test from 'ava';
import { IdentityKey } from '../src/session';
import { clientMessageId, deliveries, makeUpload, startRelay, str, text, transports } from './support/relay-harness';

for (const transport of transports) {
  test(`postgres: send, fetch, ack and a bundle claim on PostgreSQL (${transport})`, async (t) => {
    const relay = await startRelay(t, { postgres: true });
    const alice = IdentityKey.generate();
    const bob = IdentityKey.generate();
    const b = await relay.connect(transport, bob, 2);
    const a = await relay.connect(transport, alice);
    const { upload, bundles } = makeUpload(bob, { oneTime: 1, oneTimeKem: 1 });
    await b.request(upload);
    const bundle = await a.request({ type: 'GetBundle', identity: bob.publicKey, device: 2 });
    t.deepEqual(Buffer.from(bundle.bundle), Buffer.from(bundles[0]));
    const id = clientMessageId();
    const sent = await a.request({ type: 'Send', clientMessageId: id, recipient: bob.publicKey, device: 0, body: text('hi') });
    t.is(sent.copies, 1);
    const got = deliveries(b);
    await b.request({ type: 'Fetch' });
    t.deepEqual(
      got.all.map((d) => str(d.body)),
      ['hi'],
    );
    await b.request({ type: 'Ack', messageId: got.all[0].messageId });
    t.deepEqual(await relay.store.pending({ identity: Buffer.from(bob.fingerprint, 'hex'), device: 2 }, { limit: 5, now: Date.now() }), []);
  });
}

test('postgres: two servers on one PostgreSQL: a message sent through one reaches a fetch on the other', async (t) => {
  t.timeout(60_000);
  const one = await startRelay(t, { postgres: true, server: { pollIntervalMs: 20 } });
  const bob = IdentityKey.generate();
  const b = await one.connect('tcp', bob);
  const got = deliveries(b);
  await b.request({ type: 'Fetch' });
  const two = await startRelay(t, { postgres: true });
  // The second relay has its own key; its clients pin that one.
  const a = await two.connect('websocket');
  await a.request({ type: 'Send', clientMessageId: clientMessageId(), recipient: bob.publicKey, device: 1, body: text('across') });
  await got.waitFor(1);
  t.is(str(got.all[0].body), 'across');
});
