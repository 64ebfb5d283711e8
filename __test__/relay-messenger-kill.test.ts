/**
 * Two Messengers, each in its own process, exchange 1 000 messages each way
 * through `keyward relay` (the CLI, SQLite), while the test SIGKILLs the
 * relay and both clients at random instants and starts them again. At the
 * end every message is in the recipient's history exactly once, in the order
 * it was sent; nothing is lost and nothing is stored twice.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { decodeBase64Url } from '../src/bytes';
import { IdentityKey, SecretKey, Vault } from '../src/index';
import { Messenger } from '../src/relay/messenger';
import { freePort, Proc, RELAY_LISTENING, relayProcess, sleep } from './support/processes';

const root = join(__dirname, '..');
const COUNT = 1000;
const KILLS = 8;

test('1 000 messages each way through relay and client kills: each stored once, in order', async (t) => {
  t.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'keyward-messenger-kill-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const relay = relayProcess(dir, port, { db: join(dir, 'relay.db') });
  const listening = RELAY_LISTENING;
  const line = await relay.start(listening);
  const relayKey = Buffer.from(decodeBase64Url((listening.exec(line) as RegExpExecArray)[1] as string)).toString('hex');
  const url = `ws://127.0.0.1:${port}/`;

  const people = ['alice', 'bob'].map((name) => ({ name, seed: randomBytes(32), vaultKey: randomBytes(32), dir: join(dir, name) }));
  const publicKey = (seed: Buffer) => Buffer.from(IdentityKey.fromSeed(seed).publicKey).toString('hex');
  const child = join(root, '__test__/support/messenger-child.ts');
  const clients = people.map((p, i) => {
    const peer = people[1 - i] as (typeof people)[number];
    return new Proc(p.name, [child, p.dir, p.vaultKey.toString('hex'), p.seed.toString('hex'), url, relayKey, publicKey(peer.seed), String(COUNT)]);
  });
  t.teardown(async () => {
    for (const p of [...clients, relay]) if (p.running) await p.kill();
  });
  for (const c of clients) await c.start();

  // Kill something at random instants while the exchange runs; start it again.
  for (let kill = 0; kill < KILLS; kill++) {
    await sleep(randomInt(300, 1500));
    const running = [relay, ...clients.filter((c) => c.running)];
    const victim = running[randomInt(running.length)] as Proc;
    await victim.kill();
    t.log(`killed ${victim.name}`);
    await sleep(randomInt(50, 300));
    if (victim === relay) await relay.start(listening);
    else await victim.start();
  }
  for (const c of clients) {
    const code = await c.exited;
    t.is(code, 0, `${c.name}: ${c.stderr}`);
  }

  // Each history: the peer's messages exactly once, in the order sent.
  for (const [i, p] of people.entries()) {
    const vault = await Vault.open(p.dir, SecretKey.from(p.vaultKey));
    const messenger = await Messenger.open({ vault, relay: { url }, relayPublicKey: Buffer.from(relayKey, 'hex') });
    const peer = Buffer.from(publicKey((people[1 - i] as (typeof people)[number]).seed), 'hex');
    const got = (await messenger.history()).filter((m) => peer.equals(Buffer.from(m.from))).map((m) => Buffer.from(m.plaintext).toString());
    t.deepEqual(
      got,
      Array.from({ length: COUNT }, (_, n) => `m${n}`),
      p.name,
    );
    await messenger.close();
    vault.close();
  }
});
