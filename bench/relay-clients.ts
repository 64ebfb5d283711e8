/**
 * The client side of `npm run bench:relay`, run as its own process (so the
 * relay and its clients do not share one event loop): `pairs` sender →
 * recipient pairs, each sender sending `n` 1 KiB messages one after the
 * other, all senders at once. keyward: `Messenger`s, each with its own
 * `Vault` in a temp dir (encrypt, relay, decrypt, commit, ack). durable:
 * `DurableBaselineClient`s (plaintext, each with its own Vault and the
 * Messenger's commit points). baseline: `BaselineClient`s (plaintext, keep
 * nothing). Prints one JSON line: counts,
 * throughput and latencies (send() call → the recipient's message event).
 *
 * Usage: node --import tsx bench/relay-clients.ts '<json>' with
 * { mode, senders, recipients, relayPublicKey?, pairs, n }.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SecretKey, Vault } from '../src/index';
import { Messenger } from '../src/relay/messenger';
import { BaselineClient, DurableBaselineClient } from './relay-baseline';

interface Args {
  mode: 'keyward' | 'durable' | 'baseline';
  /** WebSocket URLs: senders connect to one, recipients to the other (the same URL on one instance). */
  senders: string;
  recipients: string;
  relayPublicKey?: string;
  pairs: number;
  n: number;
}

export interface ClientResult {
  expected: number;
  received: number;
  duplicates: number;
  corrupted: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

const SIZE = 1024;
const WARMUP = 0xffff_ffff;

/** The 1 KiB plaintext of message `seq` of pair `pair`: its tag, then bytes that depend on both (checked on receipt). */
function plaintext(pair: number, seq: number): Buffer {
  const b = Buffer.alloc(SIZE);
  b.writeUInt32BE(pair, 0);
  b.writeUInt32BE(seq, 4);
  for (let j = 8; j < SIZE; j++) b[j] = (pair * 31 + seq * 7 + j) & 0xff;
  return b;
}

interface Pair {
  send(body: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Runs `fn` over 0..count-1, `width` at a time. */
async function batched(count: number, width: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

async function main() {
  const args = JSON.parse(process.argv[2] as string) as Args;
  const { pairs: count, n } = args;
  const starts = Array.from({ length: count }, () => new Float64Array(n));
  const seen = Array.from({ length: count }, () => new Uint8Array(n));
  const latencies: number[] = [];
  let received = 0;
  let duplicates = 0;
  let corrupted = 0;
  let warm = 0;
  let lastAt = 0;
  let notify = () => {};
  const onMessage = (body: Uint8Array) => {
    const at = performance.now();
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const pair = buf.readUInt32BE(0);
    const seq = buf.readUInt32BE(4);
    if (seq === WARMUP) {
      warm++;
    } else if (pair >= count || seq >= n || !buf.equals(plaintext(pair, seq))) {
      corrupted++;
    } else if (seen[pair]![seq]) {
      duplicates++;
    } else {
      seen[pair]![seq] = 1;
      received++;
      lastAt = at;
      latencies.push(at - starts[pair]![seq]!);
    }
    notify();
  };
  const until = (done: () => boolean, ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      notify = () => {
        if (done()) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      notify();
    });

  const dirs: string[] = [];
  const pairs: Pair[] = new Array(count);
  if (args.mode === 'keyward') {
    const relayPublicKey = Buffer.from(args.relayPublicKey as string, 'hex');
    const open = async (url: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-relay-vault-'));
      dirs.push(dir);
      const vault = await Vault.open(dir, SecretKey.generate());
      // Two one-time prekeys: each recipient starts one session.
      const m = await Messenger.open({ vault, relay: { url }, relayPublicKey, oneTimePreKeys: 2 });
      await new Promise<void>((resolve) => m.once('connected', () => resolve()));
      return { m, vault };
    };
    await batched(count, 10, async (i) => {
      const to = await open(args.recipients);
      to.m.on('message', (message) => onMessage(message.plaintext));
      const from = await open(args.senders);
      const peer = to.m.identity.publicKey;
      pairs[i] = {
        send: (body) => from.m.send(peer, body),
        close: async () => {
          await from.m.close();
          await to.m.close();
          from.vault.close();
          to.vault.close();
        },
      };
    });
  } else if (args.mode === 'durable') {
    const open = async (url: string, identity: Uint8Array) => {
      const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-relay-vault-'));
      dirs.push(dir);
      const vault = await Vault.open(dir, SecretKey.generate());
      return { client: new DurableBaselineClient(await BaselineClient.connect(url, identity), vault), vault };
    };
    await batched(count, 10, async (i) => {
      const recipient = new Uint8Array(randomBytes(32));
      const to = await open(args.recipients, recipient);
      to.client.onMessage = (_sender, body) => onMessage(body);
      const from = await open(args.senders, new Uint8Array(randomBytes(32)));
      pairs[i] = {
        send: (body) => from.client.send(recipient, body, new Uint8Array(randomBytes(16))),
        close: async () => {
          from.client.close();
          to.client.close();
          from.vault.close();
          to.vault.close();
        },
      };
    });
  } else {
    await batched(count, 10, async (i) => {
      const recipient = new Uint8Array(randomBytes(32));
      const to = await BaselineClient.connect(args.recipients, recipient);
      to.onMessage = (_sender, body) => onMessage(body);
      const from = await BaselineClient.connect(args.senders, new Uint8Array(randomBytes(32)));
      pairs[i] = {
        send: (body) => from.send(recipient, body, new Uint8Array(randomBytes(16))),
        close: async () => {
          from.close();
          to.close();
        },
      };
    });
  }

  // One message per pair first, untimed: sessions start (bundle claims) and the JIT warms up.
  await Promise.all(pairs.map((p, i) => p.send(plaintext(i, WARMUP))));
  if (!(await until(() => warm === count, 60_000))) throw new Error(`warm-up: ${warm} of ${count} arrived`);

  const started = performance.now();
  const sending = Promise.all(
    pairs.map(async (p, i) => {
      for (let seq = 0; seq < n; seq++) {
        starts[i]![seq] = performance.now();
        await p.send(plaintext(i, seq));
      }
    }),
  );
  await sending;
  // Every send resolved (SENT: stored durably); now wait for every delivery, or give up after 60 s and report the loss.
  await until(() => received + corrupted >= count * n, 60_000);
  const seconds = ((received > 0 ? lastAt : performance.now()) - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? Number.NaN;
  // A late duplicate would still show here: give stragglers a moment.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const result: ClientResult = {
    expected: count * n,
    received,
    duplicates,
    corrupted,
    seconds,
    perSecond: received / seconds,
    p50: pct(0.5),
    p99: pct(0.99),
  };
  await Promise.all(pairs.map((p) => p.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
