/**
 * `keyward relay` SIGKILLed at random instants while 10 clients send 1 000
 * messages each (on SQLite, and on PostgreSQL): every message answered SENT
 * is delivered, a retry after a reconnect (same client message id) stores no
 * second copy, and nothing acked comes back after another kill (ordering
 * is the store tests' and relay-server's: here sends are concurrent). The clients
 * are RelayConnections in this process; the relay is its own process.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { decodeBase64Url } from '../src/bytes';
import { RelayConnection } from '../src/relay/connection';
import { IdentityKey } from '../src/session';
import { freePort, RELAY_LISTENING, relayProcess, sleep } from './support/processes';

const SENDERS = 10;
const PER_SENDER = 1000;
const WINDOW = 32;
const KILLS = 4;

type Endpoint = { url: string };

/** Connects as `identity`, retrying while the relay is down. */
async function connect(endpoint: Endpoint, relayPublicKey: Uint8Array, identity: IdentityKey): Promise<RelayConnection> {
  for (;;) {
    try {
      return await RelayConnection.connect(endpoint, { identity, relayPublicKey, device: 1, timeoutMs: 5000 });
    } catch {
      await sleep(50);
    }
  }
}

/** Sends `count` numbered messages to `recipient`, WINDOW at a time, until each was answered SENT; resends with the same id after every reconnect. */
async function sender(endpoint: Endpoint, relayKey: Uint8Array, n: number, recipient: Uint8Array, sent: Set<number>): Promise<void> {
  const identity = IdentityKey.generate();
  const ids = Array.from({ length: PER_SENDER }, () => new Uint8Array(randomBytes(16)));
  while (sent.size < PER_SENDER) {
    const conn = await connect(endpoint, relayKey, identity);
    const queue = [...Array(PER_SENDER).keys()].filter((i) => !sent.has(i));
    const worker = async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        await conn.request({ type: 'Send', clientMessageId: ids[i] as Uint8Array, recipient, device: 1, body: Buffer.from(`s${n}:${i}`) });
        sent.add(i);
      }
    };
    // A kill rejects the requests in flight (ERR_RELAY_CLOSED): what was not answered is sent again.
    await Promise.all(Array.from({ length: WINDOW }, worker)).catch(() => undefined);
    await conn.close();
  }
}

/** Fetches on a new connection; acks the first `ack` deliveries (each answered ACKED) and returns every body seen, and those acked. */
async function receive(endpoint: Endpoint, relayKey: Uint8Array, identity: IdentityKey, ack: number) {
  const conn = await connect(endpoint, relayKey, identity);
  const seen: string[] = [];
  const acked: string[] = [];
  const acks: Promise<unknown>[] = [];
  conn.on('deliver', (d) => {
    const body = Buffer.from(d.body).toString();
    seen.push(body);
    if (acked.length < ack) {
      acked.push(body);
      acks.push(conn.request({ type: 'Ack', messageId: d.messageId }));
    }
  });
  // QUEUE_EMPTY follows the whole backlog: when this acks everything it comes; when it stops acking,
  // the backlog stops at the in-flight window and the wait ends when nothing more arrives.
  const fetched = conn.request({ type: 'Fetch' });
  if (ack >= PER_SENDER) {
    await fetched;
  } else {
    for (let last = -1; seen.length !== last; ) {
      last = seen.length;
      await Promise.all(acks);
      await sleep(500);
    }
    fetched.catch(() => undefined);
  }
  await Promise.all(acks);
  await conn.close();
  return { seen, acked };
}

async function killRun(t: ExecutionContext, store: 'sqlite' | 'postgres') {
  t.timeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'keyward-relay-kill-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const postgres = process.env.KEYWARD_TEST_PG;
  if (store === 'postgres' && !postgres) throw new Error('KEYWARD_TEST_PG is unset: run through `node scripts/with-services.mjs npx ava …`');
  const relay = relayProcess(dir, port, store === 'sqlite' ? { db: join(dir, 'relay.db') } : { postgres: postgres as string });
  t.teardown(() => relay.kill());
  const line = await relay.start(RELAY_LISTENING);
  const relayKey = decodeBase64Url((RELAY_LISTENING.exec(line) as RegExpExecArray)[1] as string);
  const endpoint = { url: `ws://127.0.0.1:${port}/` };

  // Each sender has its own recipient, registered before the sends.
  const recipients = Array.from({ length: SENDERS }, () => IdentityKey.generate());
  for (const r of recipients) await (await connect(endpoint, relayKey, r)).close();

  const sent = recipients.map(() => new Set<number>());
  const sending = Promise.all(recipients.map((r, n) => sender(endpoint, relayKey, n, r.publicKey, sent[n] as Set<number>)));
  let done = false;
  void sending.finally(() => {
    done = true;
  });
  for (let kill = 0; kill < KILLS && !done; kill++) {
    await sleep(randomInt(200, 900));
    await relay.kill();
    t.log(`killed the relay after ${sent.reduce((a, s) => a + s.size, 0)} SENT`);
    await sleep(randomInt(50, 250));
    await relay.start(RELAY_LISTENING);
  }
  await sending;

  // Receive: ack half of each mailbox, kill the relay, then read everything that is left.
  const first = await Promise.all(recipients.map((r) => receive(endpoint, relayKey, r, PER_SENDER / 2)));
  await relay.kill();
  await relay.start(RELAY_LISTENING);
  const second = await Promise.all(recipients.map((r) => receive(endpoint, relayKey, r, PER_SENDER)));
  const third = await Promise.all(recipients.map((r) => receive(endpoint, relayKey, r, 0)));
  for (let n = 0; n < SENDERS; n++) {
    const all = Array.from({ length: PER_SENDER }, (_, i) => `s${n}:${i}`);
    const { seen, acked } = first[n] as { seen: string[]; acked: string[] };
    const later = (second[n] as { seen: string[] }).seen;
    // Every message SENT was delivered, and once per connection: a retry stored no second copy.
    t.deepEqual([...new Set([...seen, ...later])].sort(), [...all].sort(), `sender ${n}: every SENT message delivered`);
    t.is(new Set(seen).size, seen.length, `sender ${n}: no duplicate on one connection`);
    t.is(new Set(later).size, later.length, `sender ${n}: no duplicate after the restart`);
    // Nothing acked came back.
    t.false(
      later.some((b) => acked.includes(b)),
      `sender ${n}: an acked message came back`,
    );
    t.deepEqual((third[n] as { seen: string[] }).seen, [], `sender ${n}: the mailbox is empty after every ack`);
  }
}

test.serial('relay SIGKILLed during 10 000 sends from 10 clients, on SQLite: every SENT delivered, nothing acked comes back', (t) => killRun(t, 'sqlite'));
test.serial('postgres: relay SIGKILLed during 10 000 sends from 10 clients, on PostgreSQL: every SENT delivered, nothing acked comes back', (t) =>
  killRun(t, 'postgres'),
);
