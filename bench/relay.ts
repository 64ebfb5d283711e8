/**
 * `npm run bench:relay`: 1 KiB messages end to end through keyward's relay
 * (Messenger encrypt → relay → Messenger decrypt, commit and ack), PAIRS
 * sender → recipient pairs in a separate client process
 * (bench/relay-clients.ts), against a baseline relay with the same store,
 * presence and WebSocket transport but no Noise and no end-to-end encryption
 * (bench/relay-baseline.ts). Two setups: SQLite on one instance, and two
 * instances on PostgreSQL + Redis (RedisPresence; senders on one, recipients
 * on the other), PostgreSQL and Redis started by scripts/services.mjs. The
 * two sides run in alternating rounds; the ratio is the median of the
 * per-round ratios with their spread. Every round checks that every message
 * arrived exactly once with its bytes intact. Then bundle claims/s: several
 * requesters GET_BUNDLE a Messenger's device concurrently. Not a test.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { startServices } from '../scripts/services.mjs';
import { IdentityKey, SecretKey, Vault } from '../src/index';
import { RelayConnection } from '../src/relay/connection';
import { RelayKey } from '../src/relay/key';
import { Messenger } from '../src/relay/messenger';
import { PgRelayStore } from '../src/relay/pg-store';
import { LocalPresence, type RelayPresence } from '../src/relay/presence';
import { RedisPresence } from '../src/relay/redis-presence';
import { createRelayServer } from '../src/relay/server';
import { SqliteRelayStore } from '../src/relay/sqlite-store';
import type { RelayStore } from '../src/relay/store';
import { RELAY_STORE_DEFAULTS } from '../src/relay/wire';
import { type Spread, showSpread, spread } from './harness';
import { startBaselineRelay } from './relay-baseline';
import type { ClientResult } from './relay-clients';

const root = join(__dirname, '..');
const PAIRS = Number(process.env.BENCH_RELAY_PAIRS ?? 100);
/** Messages per sender per round. */
const N = Number(process.env.BENCH_RELAY_N ?? 10);
/** Rounds per side (keyward, baseline, alternating). */
const ROUNDS = Number(process.env.BENCH_RELAY_ROUNDS ?? 3);
const BUNDLE_SECONDS = 3;
const REQUESTERS = 8;

/** No limit may bite: the load is the point. */
const unlimited = () => new RateLimiterMemory({ points: 1e12, duration: 1 });

interface Instance {
  store: RelayStore;
  presence: RelayPresence;
}

interface Running {
  /** keyward's WebSocket URL per instance, and its public key. */
  keyward: string[];
  publicKey: Uint8Array;
  baseline: string[];
  close(): Promise<void>;
}

/** keyward's relay and the baseline on every instance, over the same stores and presences. */
async function startRelays(instances: Instance[]): Promise<Running> {
  const key = RelayKey.generate();
  const closers: (() => Promise<void>)[] = [];
  const keyward: string[] = [];
  const baseline: string[] = [];
  for (const { store, presence } of instances) {
    const server = createRelayServer({
      key,
      store,
      presence,
      bundleRateLimiter: unlimited(),
      sendRateLimiters: { perSender: unlimited(), perPair: unlimited() },
    });
    const addresses = await server.listen({ websocket: { port: 0, host: '127.0.0.1', path: '/relay' } });
    keyward.push(addresses.websocket?.url as string);
    closers.push(() => server.close());
    const plain = await startBaselineRelay(store, presence);
    baseline.push(plain.url);
    closers.push(() => plain.close());
  }
  return {
    keyward,
    baseline,
    publicKey: key.publicKey,
    close: async () => {
      for (const close of closers) await close();
      key.dispose();
    },
  };
}

/** One round of one side, in its own client process. */
function clients(mode: Mode, relays: Running): Promise<ClientResult> {
  const urls = relays[mode === 'keyward' ? 'keyward' : 'baseline'];
  const args = {
    mode,
    senders: urls[0],
    recipients: urls[urls.length - 1],
    relayPublicKey: Buffer.from(relays.publicKey).toString('hex'),
    pairs: PAIRS,
    n: N,
  };
  // BENCH_RELAY_PROF=dir: the client processes write V8 CPU profiles there (where the time goes).
  const prof = process.env.BENCH_RELAY_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_RELAY_PROF] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', join(__dirname, 'relay-clients.ts'), JSON.stringify(args)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} clients exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop() as string) as ClientResult);
    });
  });
}

/** Bundle claims per second: REQUESTERS connections GET_BUNDLE one Messenger's device for BUNDLE_SECONDS. */
async function bundleClaims(relays: Running): Promise<{ perSecond: number; withOneTime: number; claims: number }> {
  const url = relays.keyward[0] as string;
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-relay-target-'));
  const vault = await Vault.open(dir, SecretKey.generate());
  // The target keeps 100 one-time prekeys and tops them up on PREKEYS_LOW, as an application would.
  const target = await Messenger.open({ vault, relay: { url }, relayPublicKey: relays.publicKey });
  await new Promise<void>((resolve) => target.once('connected', () => resolve()));
  const requesters = await Promise.all(
    Array.from({ length: REQUESTERS }, () =>
      RelayConnection.connect({ url }, { identity: IdentityKey.generate(), relayPublicKey: relays.publicKey, device: 1 }),
    ),
  );
  let claims = 0;
  let withOneTime = 0;
  const end = performance.now() + BUNDLE_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    requesters.map(async (c) => {
      while (performance.now() < end) {
        const bundle = (await c.request({ type: 'GetBundle', identity: target.identity.publicKey, device: 1 })) as { oneTimeKem?: unknown };
        claims++;
        if (bundle.oneTimeKem !== undefined) withOneTime++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const c of requesters) await c.close();
  await target.close();
  vault.close();
  rmSync(dir, { recursive: true, force: true });
  return { perSecond: claims / seconds, withOneTime, claims };
}

/** The sides of a round: keyward, then the baseline relay with durable clients and with clients that keep nothing. */
const MODES = ['keyward', 'durable', 'baseline'] as const;
type Mode = (typeof MODES)[number];

interface SetupResult {
  name: string;
  runs: Record<Mode, ClientResult[]>;
  /** keyward ÷ each baseline, per round. */
  ratio: Record<Exclude<Mode, 'keyward'>, Spread>;
  bundles: Awaited<ReturnType<typeof bundleClaims>>;
}

async function measure(name: string, instances: Instance[]): Promise<SetupResult> {
  const relays = await startRelays(instances);
  try {
    const runs: Record<Mode, ClientResult[]> = { keyward: [], durable: [], baseline: [] };
    const ratios = { durable: [] as number[], baseline: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      // The order rotates every round, so no side always runs first.
      const order = MODES.map((_, i) => MODES[(i + r) % MODES.length] as Mode);
      const got: Partial<Record<Mode, ClientResult>> = {};
      for (const mode of order) {
        const g = await clients(mode, relays);
        got[mode] = g;
        runs[mode].push(g);
        console.error(
          `[${name}] round ${r + 1} ${mode}: ${g.perSecond.toFixed(0)} msgs/s, p50 ${g.p50.toFixed(1)} ms, p99 ${g.p99.toFixed(1)} ms, ` +
            `${g.received}/${g.expected} once, ${g.duplicates} duplicates, ${g.corrupted} corrupted`,
        );
      }
      const k = (got.keyward as ClientResult).perSecond;
      ratios.durable.push(k / (got.durable as ClientResult).perSecond);
      ratios.baseline.push(k / (got.baseline as ClientResult).perSecond);
    }
    const bundles = await bundleClaims(relays);
    console.error(`[${name}] bundle claims: ${bundles.perSecond.toFixed(0)}/s (${bundles.claims} claims)`);
    return { name, runs, ratio: { durable: spread(ratios.durable), baseline: spread(ratios.baseline) }, bundles };
  } finally {
    await relays.close();
  }
}

const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

function report(results: SetupResult[]): string {
  const lossOf = (rs: ClientResult[]) => {
    const lost = rs.reduce((s, r) => s + (r.expected - r.received), 0);
    const dup = rs.reduce((s, r) => s + r.duplicates + r.corrupted, 0);
    const total = rs.reduce((s, r) => s + r.expected, 0);
    return lost === 0 && dup === 0 ? `0 of ${total}` : `**${lost} lost, ${dup} duplicated or corrupted, of ${total}**`;
  };
  const rate = (rs: ClientResult[]) => med(rs.map((r) => r.perSecond)).toFixed(0);
  const lat = (rs: ClientResult[]) => `${med(rs.map((r) => r.p50)).toFixed(1)} / ${med(rs.map((r) => r.p99)).toFixed(1)} ms`;
  const vs = (ratio: Spread) => `${showSpread(ratio)} ${ratio.median >= 0.5 ? '(≥ 0.5×: met)' : '(≥ 0.5×: **NOT met**)'}`;
  const lines = [
    '| setup | keyward msgs/s | baseline, durable clients | keyward ÷ it (spread) | baseline, clients keep nothing | keyward ÷ it (spread) | p50 / p99: keyward, durable, keep-nothing | lost or duplicated (all sides) | bundle claims/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |',
  ];
  for (const s of results) {
    const { keyward: k, durable: d, baseline: b } = s.runs;
    lines.push(
      `| ${s.name} | ${rate(k)} | ${rate(d)} | ${vs(s.ratio.durable)} | ${rate(b)} | ${vs(s.ratio.baseline)} | ` +
        `${lat(k)}; ${lat(d)}; ${lat(b)} | ${lossOf(k)}; ${lossOf(d)}; ${lossOf(b)} | ${s.bundles.perSecond.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const limits = { ...RELAY_STORE_DEFAULTS };
  const results: SetupResult[] = [];
  const only = process.argv[2];

  if (only === undefined || only === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-relay-'));
    const store = new SqliteRelayStore(join(dir, 'relay.db'), { limits });
    try {
      results.push(await measure('SQLite, one instance', [{ store, presence: new LocalPresence() }]));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  if (only === undefined || only === 'postgres') {
    const services = await startServices();
    const instances: (Instance & { close(): Promise<void> })[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const store = new PgRelayStore({ postgres: services.env.KEYWARD_TEST_PG, limits });
        const presence = await RedisPresence.open({ redis: services.env.KEYWARD_TEST_REDIS });
        instances.push({ store, presence, close: async () => (await presence.close(), await store.close()) });
      }
      results.push(await measure('PostgreSQL + Redis, two instances', instances));
    } finally {
      for (const i of instances) await i.close();
      await services.stop();
    }
  }

  console.log(`\n${PAIRS} pairs × ${N} messages of 1 KiB per sender per round, ${ROUNDS} rounds per side, alternating\n`);
  console.log(report(results));
  console.log(`\nRun: ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${process.platform}-${process.arch}, \`npm run bench:relay\``);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
