/**
 * Two Messengers, each in its own process, exchange 1 000 messages each way
 * through `keyward relay` (the CLI, SQLite), while the test SIGKILLs the
 * relay and both clients at random instants and starts them again. At the
 * end every message is in the recipient's history exactly once, in the order
 * it was sent; nothing is lost and nothing is stored twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { decodeBase64Url } from '../src/bytes';
import { IdentityKey, SecretKey, Vault } from '../src/index';
import { Messenger } from '../src/relay/messenger';

const root = join(__dirname, '..');
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const COUNT = 1000;
const KILLS = 8;

/** A port nobody listens on now (the relay is started on it again after each kill). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A child process that can be killed and started again with the same arguments. */
class Proc {
  child: ChildProcess | undefined;
  exited: Promise<number | null> = Promise.resolve(null);
  stderr = '';
  constructor(
    readonly name: string,
    private readonly args: string[],
  ) {}

  /** Starts it; resolves when `ready` matches a stdout line (or at once without `ready`). */
  start(ready?: RegExp): Promise<string> {
    const child = spawn(process.execPath, ['--import', tsx, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    if (ready === undefined) return Promise.resolve('');
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => ready.test(l));
        if (line !== undefined) resolve(line);
      });
      child.once('close', (code) => reject(new Error(`${this.name} exited (${code}) before it was ready: ${this.stderr}`)));
    });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('1 000 messages each way through relay and client kills: each stored once, in order', async (t) => {
  t.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'keyward-messenger-kill-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const relay = new Proc('relay', [
    join(root, 'src/cli.ts'),
    'relay',
    '--port',
    String(port),
    '--db',
    join(dir, 'relay.db'),
    '--key-file',
    join(dir, 'relay.key'),
  ]);
  const listening = /relay listening .*relay public key ([A-Za-z0-9_-]+)/;
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
    const got = messenger
      .history()
      .filter((m) => peer.equals(Buffer.from(m.from)))
      .map((m) => Buffer.from(m.plaintext).toString());
    t.deepEqual(
      got,
      Array.from({ length: COUNT }, (_, n) => `m${n}`),
      p.name,
    );
    await messenger.close();
    vault.close();
  }
});
