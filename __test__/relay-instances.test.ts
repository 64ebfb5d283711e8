/**
 * Two relay instances on one PostgreSQL and one Redis (`RedisPresence`,
 * rate-limiter-flexible's RateLimiterRedis): a send through one wakes the
 * recipient's fetch on the other at once, a newer connection on one
 * displaces the older on the other, bundle-fetch limits are shared, and with
 * Redis stopped mid-test delivery goes on by polling. Each test runs its own
 * redis-server (it is stopped on purpose), and the relays share the test
 * PostgreSQL (`node scripts/with-services.mjs`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import IORedis from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisPresence } from '../src/relay/redis-presence';
import { IdentityKey } from '../src/session';
import { freePort } from './support/processes';
import { clientMessageId, deliveries, makeUpload, startRelay, str, text } from './support/relay-harness';

/** A redis-server of this test's own, stopped at teardown (or before, by `stop`). */
async function privateRedis(t: ExecutionContext) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'keyward-relay-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.kill('SIGKILL');
    await exited;
  };
  t.teardown(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `redis://127.0.0.1:${port}`;
  // Ready once it answers PING.
  for (let i = 0; ; i++) {
    const probe = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch (error) {
      probe.disconnect();
      if (i > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { url, stop };
}

/** Two relay instances on the test PostgreSQL, sharing `redisUrl` for presence and (when asked) bundle limits. */
async function twoInstances(t: ExecutionContext, redisUrl: string, options: { pollIntervalMs: number; sharedLimits?: boolean }) {
  const relays = [];
  for (let i = 0; i < 2; i++) {
    const presence = await RedisPresence.open({ redis: redisUrl });
    const limiterClient = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
    limiterClient.on('error', () => undefined);
    t.teardown(async () => {
      await presence.close();
      limiterClient.disconnect();
    });
    const shared = (points: number, keyPrefix: string) => new RateLimiterRedis({ storeClient: limiterClient, points, duration: 600, keyPrefix });
    const limiters = options.sharedLimits
      ? { bundleRateLimiter: shared(6, 'keyward-test-bundles'), sendRateLimiters: { perPair: shared(3, 'keyward-test-sends') } }
      : {};
    relays.push(await startRelay(t, { postgres: true, server: { presence, pollIntervalMs: options.pollIntervalMs, ...limiters } }));
  }
  return relays as [(typeof relays)[0], (typeof relays)[0]];
}

test('postgres+redis: a send through one instance wakes the fetch on the other at once (the poll is a minute away)', async (t) => {
  t.timeout(30_000);
  const redis = await privateRedis(t);
  const [one, two] = await twoInstances(t, redis.url, { pollIntervalMs: 60_000 });
  const bob = IdentityKey.generate();
  const b = await two.connect('tcp', bob);
  const got = deliveries(b);
  await b.request({ type: 'Fetch' });
  const a = await one.connect('websocket');
  for (const body of ['first', 'second']) {
    await a.request({ type: 'Send', clientMessageId: clientMessageId(), recipient: bob.publicKey, device: 1, body: text(body) });
  }
  await got.waitFor(2);
  t.deepEqual(
    got.all.map((d) => str(d.body)),
    ['first', 'second'],
  );
});

test('postgres+redis: with Redis stopped mid-test, delivery across instances goes on by polling', async (t) => {
  t.timeout(30_000);
  const redis = await privateRedis(t);
  const [one, two] = await twoInstances(t, redis.url, { pollIntervalMs: 200 });
  const bob = IdentityKey.generate();
  const b = await two.connect('websocket', bob);
  const got = deliveries(b);
  await b.request({ type: 'Fetch' });
  const a = await one.connect('tcp');
  const send = (body: string) => a.request({ type: 'Send', clientMessageId: clientMessageId(), recipient: bob.publicKey, device: 1, body: text(body) });
  await send('before');
  await got.waitFor(1);
  await redis.stop();
  await send('after');
  await got.waitFor(2);
  t.deepEqual(
    got.all.map((d) => str(d.body)),
    ['before', 'after'],
  );
});

test('postgres+redis: a newer connection on one instance displaces the older on the other', async (t) => {
  t.timeout(30_000);
  const redis = await privateRedis(t);
  const [one, two] = await twoInstances(t, redis.url, { pollIntervalMs: 1000 });
  const alice = IdentityKey.generate();
  const first = await one.connect('tcp', alice, 3);
  const displaced = new Promise<void>((resolve) => first.once('displaced', () => resolve()));
  const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
  const second = await two.connect('websocket', alice, 3);
  await displaced;
  await closed;
  // The newer connection works; another device of the same identity is not displaced.
  const other = await one.connect('tcp', alice, 4);
  t.deepEqual((await second.request({ type: 'ListDevices', identity: alice.publicKey })).devices, [3, 4]);
  let otherDisplaced = false;
  other.once('displaced', () => {
    otherDisplaced = true;
  });
  await second.request({ type: 'ListDevices', identity: alice.publicKey });
  t.false(otherDisplaced);
});

test('postgres+redis: bundle fetch and send limits are shared: six fetches and three sends per pair across both instances, then refused', async (t) => {
  t.timeout(30_000);
  const redis = await privateRedis(t);
  const [one, two] = await twoInstances(t, redis.url, { pollIntervalMs: 1000, sharedLimits: true });
  const bob = IdentityKey.generate();
  const b = await one.connect('tcp', bob);
  await b.request(makeUpload(bob, { oneTime: 10 }).upload);
  const alice = IdentityKey.generate();
  const [a1, a2] = [await one.connect('tcp', alice, 1), await two.connect('websocket', alice, 2)];
  const fetch = (c: typeof a1) => c.request({ type: 'GetBundle', identity: bob.publicKey, device: 1 });
  for (let i = 0; i < 3; i++) {
    await fetch(a1);
    await fetch(a2);
  }
  for (const c of [a1, a2]) {
    const error = (await t.throwsAsync(fetch(c))) as Error & { code?: string; retryAfterMs?: number };
    t.is(error.code, 'ERR_RELAY_RATE_LIMITED');
    t.true((error.retryAfterMs ?? 0) > 0);
  }
  const send = (c: typeof a1) => c.request({ type: 'Send', clientMessageId: clientMessageId(), recipient: bob.publicKey, device: 1, body: text('x') });
  await send(a1);
  await send(a2);
  await send(a1);
  t.is(((await t.throwsAsync(send(a2))) as { code?: string }).code, 'ERR_RELAY_RATE_LIMITED');
});
