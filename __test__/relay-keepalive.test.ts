/**
 * A relay that stops answering without closing anything: a host that hangs,
 * a network path that silently drops. A TCP proxy in front of the relay's
 * WebSocket port stops forwarding in both directions (the sockets stay open,
 * as they do then). The client's pings (`keepAliveMs`) find the relay gone
 * and the Messenger reconnects once the path works again; without pings the
 * client would sit on a dead connection.
 */
import { connect, createServer, type Socket } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import type { Vault } from '../src/index';
import { Messenger, type ReceivedMessage } from '../src/relay/messenger';
import { type Relay, startRelay, str, vaultFor } from './support/relay-harness';

/** A TCP proxy to `port` that can stop forwarding (both ways, connections left open) and start again. */
async function freezableProxy(t: ExecutionContext, port: number) {
  let frozen = false;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    for (const [from, to] of [pair, [upstream, client] as const]) {
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk);
      });
      from.on('close', () => {
        pairs.delete(pair);
        to.destroy();
      });
      from.on('error', () => {});
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const pair of pairs) for (const s of pair) s.destroy();
    server.close();
  });
  return {
    port: (server.address() as { port: number }).port,
    /** Drops everything both ways from now on; the sockets stay open. */
    freeze() {
      frozen = true;
    },
    /** Ends the frozen connections (as the path's timeouts would) and forwards new ones again. */
    thaw() {
      for (const pair of pairs) for (const s of pair) s.destroy();
      frozen = false;
    },
  };
}

async function open(t: ExecutionContext, relay: Relay, url: string, keepAliveMs: number, vault?: Vault, deviceListTtlMs?: number) {
  const m = await Messenger.open({
    vault: vault ?? (await (await vaultFor(t)).open()),
    relay: { url },
    relayPublicKey: relay.key.publicKey,
    keepAliveMs,
    reconnect: { minDelayMs: 50, maxDelayMs: 200 },
    deviceListTtlMs,
  });
  t.teardown(() => m.close());
  await new Promise<void>((resolve) => m.once('connected', () => resolve()));
  let disconnects = 0;
  m.on('disconnected', () => disconnects++);
  return { m, disconnects: () => disconnects };
}

async function next(m: Messenger): Promise<ReceivedMessage> {
  for await (const message of m.messages()) return message;
  throw new Error('the messenger closed');
}

test('a relay that stops answering is found gone by the client’s pings; the messenger reconnects when the path works again and a message sent meanwhile arrives', async (t) => {
  t.timeout(60_000);
  // The relay pings nobody: only the clients' pings can notice the silence.
  const relay = await startRelay(t, { server: { keepAliveMs: 0 } });
  const proxy = await freezableProxy(t, (relay.addresses.websocket as { port: number }).port);
  const url = `ws://127.0.0.1:${proxy.port}/relay`;
  const alice = await open(t, relay, relay.addresses.websocket?.url as string, 0); // not through the proxy
  const bob = await open(t, relay, url, 200);
  const carol = await open(t, relay, url, 0);

  const first = next(bob.m);
  await alice.m.send(bob.m.identity.publicKey, 'one');
  t.is(str((await first).plaintext), 'one');

  proxy.freeze();
  const gone = await new Promise<boolean>((resolve) => {
    bob.m.once('disconnected', () => resolve(true));
    setTimeout(() => resolve(false), 10_000).unref();
  });
  t.true(gone, 'two unanswered pings (400 ms) and bob knows the relay is gone');
  t.is(carol.disconnects(), 0, 'without pings, carol still believes she is connected');

  // Sent while bob cannot be reached: stored at the relay, delivered when bob is back.
  const second = next(bob.m);
  await alice.m.send(bob.m.identity.publicKey, 'two');
  proxy.thaw();
  t.is(str((await second).plaintext), 'two');
  t.deepEqual(
    (await bob.m.history()).map((message) => str(message.plaintext)),
    ['one', 'two'],
  );
});

test('a send to a known peer while the relay does not answer is committed to the outbox within 5 s (the device re-list is given up): it survives close and reopen', async (t) => {
  t.timeout(60_000);
  const relay = await startRelay(t, { server: { keepAliveMs: 0 } });
  const proxy = await freezableProxy(t, (relay.addresses.websocket as { port: number }).port);
  const direct = relay.addresses.websocket?.url as string;
  const bob = await open(t, relay, direct, 0);
  const aliceVault = await vaultFor(t);
  // No pings and a device list that is always stale: every send lists bob's devices again first.
  const alice = await open(t, relay, `ws://127.0.0.1:${proxy.port}/relay`, 0, await aliceVault.open(), 0);
  const first = next(bob.m);
  await alice.m.send(bob.m.identity.publicKey, 'one');
  t.is(str((await first).plaintext), 'one');

  proxy.freeze();
  const stuck = alice.m.send(bob.m.identity.publicKey, 'two', { id: 'two' });
  stuck.catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 6000));
  await alice.m.close();
  await t.throwsAsync(stuck, { message: /closed/ }, 'closed before SENT: the send stays in the outbox');
  proxy.thaw();

  const second = next(bob.m);
  await open(t, relay, direct, 0, await aliceVault.open());
  t.is(str((await second).plaintext), 'two', 'sent from the outbox after the reopen');
});
