/**
 * The relay store's contract (src/relay/store.ts), one suite run against
 * both stores: SQLite on real files (two connections on one file as two
 * instances) and PostgreSQL through `node scripts/with-services.mjs` (two
 * pg Pools as two instances). Every identity is random bytes, so runs under
 * several Node versions can share one PostgreSQL.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Pool } from 'pg';
import { openSqlite } from '../src/auth/sqlite-driver';
import { InvalidArgumentError, InvalidStateError } from '../src/errors';
import { migrateRelayPostgres, relayMigrations } from '../src/relay/migrations';
import { PgRelayStore } from '../src/relay/pg-store';
import { SqliteRelayStore } from '../src/relay/sqlite-store';
import { RelayError, type RelayErrorCode, type RelayStore, type RelayStoreLimits } from '../src/relay/store';

const anyTest = test;

/** Test-sized limits (not the relay's defaults, which crates/relay/src/limits.rs holds). */
const LIMITS: RelayStoreLimits = { quotaMessages: 1000, quotaBytes: 1 << 20, ttlMs: 60_000, maxOneTimeStored: 100, maxDevices: 4 };

type Made = { store: RelayStore; sibling: () => RelayStore };

function pgUrl(): string {
  const url = process.env.KEYWARD_TEST_PG;
  if (!url) throw new Error('KEYWARD_TEST_PG is unset: run through `node scripts/with-services.mjs npx ava …`, which starts PostgreSQL');
  return url;
}

const stores: Record<string, (t: ExecutionContext, limits?: Partial<RelayStoreLimits>) => Made> = {
  sqlite: (t, limits) => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-relay-'));
    const opened: RelayStore[] = [];
    const open = () => {
      const store = new SqliteRelayStore(join(dir, 'relay.db'), { limits: { ...LIMITS, ...limits } });
      opened.push(store);
      return store;
    };
    t.teardown(async () => {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { store: open(), sibling: open };
  },
  postgres: (t, limits) => {
    // The first instance opens its own pool from the connection string; siblings run on pools the test owns, kept small
    // so that the suite stays far below the server's connection limit (one PostgreSQL is shared by every Node version in CI).
    const opened: RelayStore[] = [new PgRelayStore({ postgres: pgUrl(), limits: { ...LIMITS, ...limits } })];
    const pools: Pool[] = [];
    const sibling = () => {
      const pool = new Pool({ connectionString: pgUrl(), max: 4 });
      pools.push(pool);
      const store = new PgRelayStore({ postgres: pool, limits: { ...LIMITS, ...limits } });
      opened.push(store);
      return store;
    };
    t.teardown(async () => {
      for (const s of opened) await s.close();
      for (const pool of pools) await pool.end();
    });
    return { store: opened[0], sibling };
  },
};

const identity = () => new Uint8Array(randomBytes(32));
const cmid = () => new Uint8Array(randomBytes(16));
const text = (s: string) => new Uint8Array(Buffer.from(s));
const str = (b: Uint8Array) => Buffer.from(b).toString();

/** A registered recipient device and a sender, unique to this test. */
async function pair(store: RelayStore, now = 0) {
  const recipient = identity();
  await store.registerDevice(recipient, 1, now);
  const mailbox = { identity: recipient, device: 1 };
  const sender = identity();
  const send = (body: string, options: { at?: number; id?: Uint8Array; senderDevice?: number } = {}) =>
    store.enqueue({
      recipient,
      device: 1,
      sender,
      senderDevice: options.senderDevice ?? 7,
      clientMessageId: options.id ?? cmid(),
      body: text(body),
      now: options.at ?? now,
    });
  return { recipient, mailbox, sender, send };
}

async function refused(t: ExecutionContext, promise: Promise<unknown>, code: RelayErrorCode) {
  const error = await t.throwsAsync(promise, { instanceOf: RelayError });
  t.is(error?.code, code);
}

/** 32 bytes standing in for a one-time key (the store keeps bytes; the server verified them). */
const key = (n: number) => new Uint8Array(32).fill(n % 256);
/** An ML-KEM-768 key and its signature (1184 + 64 bytes), standing in likewise. */
const kemKey = (n: number) => new Uint8Array(1248).fill(n % 256);
/**
 * A signed section that parses (docs/relay.md, "Prekeys": id ‖ key ‖ ML-KEM
 * flag ‖ ML-KEM id ‖ ML-KEM key ‖ signature), with its own id `id`; the
 * store compares bytes and ids, the server verified the signature.
 */
function signed(id: number, fill = id) {
  const bytes = new Uint8Array(4 + 32 + 1 + 4 + 1184 + 64).fill(fill % 256);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, id);
  bytes[36] = 1;
  view.setUint32(37, Math.max(id, 1));
  return { id, bytes };
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

for (const [name, make] of Object.entries(stores)) {
  // One PostgreSQL test at a time: each holds up to 14 connections, and ava runs a file's tests concurrently.
  const test = name === 'postgres' ? anyTest.serial : anyTest;
  test(`${name}: messages come back in FIFO order with their sender, device, time and body`, async (t) => {
    const { store } = make(t);
    const { mailbox, sender, send } = await pair(store);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = await send(`m${i}`, { at: 100 + i });
      t.false(sent.duplicate);
      t.is(sent.storedAt, 100 + i);
      ids.push(sent.messageId);
    }
    t.deepEqual(ids, [1, 2, 3, 4, 5]);
    const pending = await store.pending(mailbox, { limit: 100, now: 200 });
    t.deepEqual(
      pending.map((m) => [m.messageId, str(m.body), m.senderDevice, m.receivedAt]),
      ids.map((id, i) => [id, `m${i}`, 7, 100 + i]),
    );
    for (const m of pending) t.deepEqual(m.sender, sender);
  });

  test(`${name}: pending after a cursor, and at most the limit`, async (t) => {
    const { store } = make(t);
    const { mailbox, send } = await pair(store);
    for (let i = 0; i < 6; i++) await send(`m${i}`);
    t.deepEqual(
      (await store.pending(mailbox, { after: 2, limit: 3, now: 0 })).map((m) => m.messageId),
      [3, 4, 5],
    );
    t.deepEqual(
      (await store.pending(mailbox, { after: 5, limit: 3, now: 0 })).map((m) => m.messageId),
      [6],
    );
    t.deepEqual(await store.pending(mailbox, { after: 6, limit: 3, now: 0 }), []);
  });

  test(`${name}: a retried send stores one copy and answers the first id and time, even after the ack`, async (t) => {
    const { store } = make(t);
    const { mailbox, send } = await pair(store);
    const id = cmid();
    const first = await send('hello', { id, at: 10 });
    const retry = await send('hello', { id, at: 20 });
    t.deepEqual(retry, { messageId: first.messageId, storedAt: 10, duplicate: true });
    t.is((await store.pending(mailbox, { limit: 10, now: 20 })).length, 1);
    t.is(await store.ack(mailbox, [first.messageId]), 1);
    // The key outlives the ack (kept for the TTL): a late retry stores nothing.
    t.deepEqual(await send('hello', { id, at: 30 }), { messageId: first.messageId, storedAt: 10, duplicate: true });
    t.deepEqual(await store.pending(mailbox, { limit: 10, now: 30 }), []);
    // The same client message id from another sender device is another message.
    t.false((await send('other device', { id, at: 30, senderDevice: 8 })).duplicate);
  });

  test(`${name}: the same client message id in two mailboxes is two messages`, async (t) => {
    const { store } = make(t);
    const { recipient, sender, send } = await pair(store);
    await store.registerDevice(recipient, 2, 0);
    const id = cmid();
    await send('a', { id });
    const other = await store.enqueue({ recipient, device: 2, sender, senderDevice: 7, clientMessageId: id, body: text('b'), now: 0 });
    t.deepEqual(other, { messageId: 1, storedAt: 0, duplicate: false });
  });

  test(`${name}: a mailbox full by count refuses with ERR_RELAY_QUOTA and stores nothing; an ack makes room`, async (t) => {
    const { store } = make(t, { quotaMessages: 3 });
    const { mailbox, send } = await pair(store);
    for (let i = 0; i < 3; i++) await send(`m${i}`);
    const id = cmid();
    await refused(t, send('one too many', { id }), 'ERR_RELAY_QUOTA');
    t.deepEqual(
      (await store.pending(mailbox, { limit: 10, now: 0 })).map((m) => str(m.body)),
      ['m0', 'm1', 'm2'],
    );
    await store.ack(mailbox, [1]);
    // The refused message's key was not kept: its retry is stored now, with the next id.
    t.deepEqual(await send('one too many', { id }), { messageId: 4, storedAt: 0, duplicate: false });
    await refused(t, send('again full'), 'ERR_RELAY_QUOTA');
  });

  test(`${name}: a mailbox full by bytes refuses with ERR_RELAY_QUOTA and stores nothing`, async (t) => {
    const { store } = make(t, { quotaBytes: 100 });
    const { mailbox, send } = await pair(store);
    await send('x'.repeat(60));
    await refused(t, send('y'.repeat(41)), 'ERR_RELAY_QUOTA');
    t.deepEqual(
      (await store.pending(mailbox, { limit: 10, now: 0 })).map((m) => m.body.length),
      [60],
    );
    t.is((await send('z'.repeat(40))).messageId, 2);
    await refused(t, send('!'), 'ERR_RELAY_QUOTA');
    await store.ack(mailbox, [1]);
    t.is((await send('w'.repeat(60))).messageId, 3);
  });

  test(`${name}: messages expire after the TTL by the injected clock; purged rows free the quota and the key`, async (t) => {
    const { store } = make(t, { ttlMs: 1000, quotaMessages: 2 });
    const { mailbox, send } = await pair(store);
    const id = cmid();
    await send('old', { id, at: 0 });
    await send('newer', { at: 500 });
    t.deepEqual(
      (await store.pending(mailbox, { limit: 10, now: 999 })).map((m) => str(m.body)),
      ['old', 'newer'],
    );
    t.deepEqual(
      (await store.pending(mailbox, { limit: 10, now: 1000 })).map((m) => str(m.body)),
      ['newer'],
    );
    // Full by count, but the first message has expired: the send clears it and is stored.
    t.is((await send('third', { at: 1000 })).messageId, 3);
    await refused(t, send('fourth', { at: 1000 }), 'ERR_RELAY_QUOTA');
    t.is(await store.purgeExpired(1500), 1);
    t.deepEqual(
      (await store.pending(mailbox, { limit: 10, now: 1500 })).map((m) => m.messageId),
      [3],
    );
    t.is(await store.purgeExpired(1500), 0);
    // The first message's key expired with it: the same client message id is a new message now.
    t.deepEqual(await send('old', { id, at: 1500 }), { messageId: 4, storedAt: 1500, duplicate: false });
    t.is(await store.purgeExpired(10_000), 2);
    t.deepEqual(await store.pending(mailbox, { limit: 10, now: 0 }), []);
  });

  test(`${name}: ack deletes only the named messages of that mailbox, and is idempotent`, async (t) => {
    const { store } = make(t);
    const a = await pair(store);
    const b = await pair(store);
    await store.registerDevice(a.recipient, 2, 0);
    const a2 = { identity: a.recipient, device: 2 };
    for (let i = 0; i < 3; i++) {
      await a.send(`a${i}`);
      await b.send(`b${i}`);
      await store.enqueue({ recipient: a.recipient, device: 2, sender: a.sender, senderDevice: 1, clientMessageId: cmid(), body: text(`c${i}`), now: 0 });
    }
    t.is(await store.ack(a.mailbox, [1, 3, 99]), 2);
    t.deepEqual(
      (await store.pending(a.mailbox, { limit: 10, now: 0 })).map((m) => m.messageId),
      [2],
    );
    t.deepEqual(
      (await store.pending(b.mailbox, { limit: 10, now: 0 })).map((m) => m.messageId),
      [1, 2, 3],
    );
    t.deepEqual(
      (await store.pending(a2, { limit: 10, now: 0 })).map((m) => m.messageId),
      [1, 2, 3],
    );
    t.is(await store.ack(a.mailbox, [1, 3]), 0);
    t.is(await store.ack({ identity: identity(), device: 1 }, [2]), 0);
    t.is(await store.ack(a.mailbox, []), 0);
    t.deepEqual(
      (await store.pending(b.mailbox, { limit: 10, now: 0 })).map((m) => m.messageId),
      [1, 2, 3],
    );
  });

  test(`${name}: 100 concurrent senders through two instances get one total order with no gap or duplicate`, async (t) => {
    const { store, sibling } = make(t);
    const other = sibling();
    const { recipient, mailbox } = await pair(store);
    const results = await Promise.all(
      range(0, 99).map((i) =>
        (i % 2 ? other : store).enqueue({ recipient, device: 1, sender: identity(), senderDevice: 1, clientMessageId: cmid(), body: text(`s${i}`), now: i }),
      ),
    );
    t.deepEqual(
      results.map((r) => r.messageId).sort((x, y) => x - y),
      range(1, 100),
    );
    const pending = await store.pending(mailbox, { limit: 1000, now: 0 });
    t.deepEqual(
      pending.map((m) => m.messageId),
      range(1, 100),
    );
    // Each id names the body its sender was answered with.
    const byId = new Map(results.map((r, i) => [r.messageId, `s${i}`]));
    for (const m of pending) t.is(str(m.body), byId.get(m.messageId) ?? 'no sender got this id');
  });

  test(`${name}: enqueueAll stores one copy per registered device, and a retry stores nothing, even for a device registered since`, async (t) => {
    const { store } = make(t);
    const recipient = identity();
    for (const d of [3, 1, 2]) await store.registerDevice(recipient, d, 0);
    const sender = identity();
    const id = cmid();
    const all = (at: number) => store.enqueueAll({ recipient, sender, senderDevice: 5, clientMessageId: id, body: text('to all'), now: at });
    const first = await all(10);
    t.deepEqual(first, {
      copies: [
        { device: 1, messageId: 1 },
        { device: 2, messageId: 1 },
        { device: 3, messageId: 1 },
      ],
      storedAt: 10,
      duplicate: false,
    });
    for (const device of [1, 2, 3])
      t.deepEqual(
        (await store.pending({ identity: recipient, device }, { limit: 10, now: 10 })).map((m) => str(m.body)),
        ['to all'],
      );
    await store.registerDevice(recipient, 4, 20);
    await store.ack({ identity: recipient, device: 2 }, [1]);
    t.deepEqual(await all(30), { ...first, duplicate: true });
    t.deepEqual(await store.pending({ identity: recipient, device: 4 }, { limit: 10, now: 30 }), []);
    t.deepEqual(await store.pending({ identity: recipient, device: 2 }, { limit: 10, now: 30 }), []);
    await refused(
      t,
      store.enqueueAll({ recipient: identity(), sender, senderDevice: 5, clientMessageId: cmid(), body: text('x'), now: 0 }),
      'ERR_RELAY_UNKNOWN_RECIPIENT',
    );
    await t.throwsAsync(store.enqueueAll({ recipient, sender, senderDevice: 0, clientMessageId: cmid(), body: text('x'), now: 0 }), {
      instanceOf: InvalidArgumentError,
    });
    await t.throwsAsync(store.enqueueAll(null as never), { instanceOf: InvalidArgumentError });
  });

  test(`${name}: enqueueAll is all or nothing: one full mailbox refuses it with ERR_RELAY_QUOTA and no copy is stored`, async (t) => {
    const { store } = make(t, { quotaMessages: 2 });
    const recipient = identity();
    for (const d of [1, 2, 3]) await store.registerDevice(recipient, d, 0);
    const sender = identity();
    for (let i = 0; i < 2; i++) await store.enqueue({ recipient, device: 2, sender, senderDevice: 1, clientMessageId: cmid(), body: text(`d2-${i}`), now: 0 });
    const id = cmid();
    const all = () => store.enqueueAll({ recipient, sender, senderDevice: 1, clientMessageId: id, body: text('to all'), now: 0 });
    await refused(t, all(), 'ERR_RELAY_QUOTA');
    for (const device of [1, 3]) t.deepEqual(await store.pending({ identity: recipient, device }, { limit: 10, now: 0 }), [], `device ${device}`);
    t.is((await store.pending({ identity: recipient, device: 2 }, { limit: 10, now: 0 })).length, 2);
    // Its key was not kept: once there is room, the retry is stored everywhere.
    await store.ack({ identity: recipient, device: 2 }, [1]);
    t.deepEqual((await all()).copies, [
      { device: 1, messageId: 1 },
      { device: 2, messageId: 3 },
      { device: 3, messageId: 1 },
    ]);
  });

  test(`${name}: enqueueAll racing single sends through two instances keeps every mailbox gapless`, async (t) => {
    const { store, sibling } = make(t);
    const other = sibling();
    const recipient = identity();
    for (const d of [1, 2]) await store.registerDevice(recipient, d, 0);
    const base = () => ({ recipient, sender: identity(), senderDevice: 1, clientMessageId: cmid(), body: text('x'), now: 0 });
    await Promise.all(
      range(1, 100).map((i) => {
        const s = i % 4 < 2 ? store : other;
        return i % 2 ? s.enqueueAll(base()) : s.enqueue({ ...base(), device: 2 });
      }),
    );
    t.deepEqual(
      (await store.pending({ identity: recipient, device: 1 }, { limit: 1000, now: 0 })).map((m) => m.messageId),
      range(1, 50),
    );
    t.deepEqual(
      (await store.pending({ identity: recipient, device: 2 }, { limit: 1000, now: 0 })).map((m) => m.messageId),
      range(1, 100),
    );
  });

  test(`${name}: sending to an unregistered device is ERR_RELAY_UNKNOWN_RECIPIENT and stores nothing`, async (t) => {
    const { store } = make(t);
    const recipient = identity();
    const send = () => store.enqueue({ recipient, device: 3, sender: identity(), senderDevice: 1, clientMessageId: cmid(), body: text('x'), now: 0 });
    await refused(t, send(), 'ERR_RELAY_UNKNOWN_RECIPIENT');
    await store.registerDevice(recipient, 3, 0);
    t.is((await send()).messageId, 1);
  });

  test(`${name}: devices register once, list ascending, and stop at the cap with ERR_RELAY_QUOTA`, async (t) => {
    const { store, sibling } = make(t, { maxDevices: 3 });
    const id = identity();
    t.deepEqual(await store.listDevices(id), []);
    t.deepEqual(await store.registerDevice(id, 9, 0), { created: true });
    t.deepEqual(await store.registerDevice(id, 9, 5), { created: false });
    await store.registerDevice(id, 2, 0);
    await store.registerDevice(id, 0xffff_ffff, 0);
    t.deepEqual(await store.listDevices(id), [2, 9, 0xffff_ffff]);
    await refused(t, store.registerDevice(id, 4, 0), 'ERR_RELAY_QUOTA');
    // Registering a device the identity already has is still fine at the cap.
    t.deepEqual(await store.registerDevice(id, 2, 0), { created: false });
    t.deepEqual(await store.listDevices(id), [2, 9, 0xffff_ffff]);
    // Many new devices at once through two instances: exactly the cap is registered.
    const crowd = identity();
    const other = sibling();
    const outcomes = await Promise.allSettled(range(1, 10).map((d) => (d % 2 ? other : store).registerDevice(crowd, d, 0)));
    t.is(outcomes.filter((o) => o.status === 'fulfilled').length, 3);
    for (const o of outcomes) if (o.status === 'rejected') t.is((o.reason as RelayError).code, 'ERR_RELAY_QUOTA');
    t.is((await store.listDevices(crowd)).length, 3);
  });

  test(`${name}: prekeys are stored, counted, and claimed lowest id first, one of each kind per claim`, async (t) => {
    const { store } = make(t);
    const id = identity();
    t.deepEqual(await store.prekeyCounts(id, 1), { oneTime: 0, oneTimeKem: 0, signedId: 0, maxOneTimeId: 0, maxOneTimeKemId: 0 });
    const status = await store.uploadPrekeys(id, 1, {
      signed: signed(5),
      oneTime: [1, 2, 3].map((n) => ({ id: n, key: key(n) })),
      oneTimeKem: [10, 11].map((n) => ({ id: n, key: kemKey(n) })),
    });
    t.deepEqual(status, { oneTime: 3, oneTimeKem: 2, signedId: 5, maxOneTimeId: 3, maxOneTimeKemId: 11 });
    t.deepEqual(await store.prekeyCounts(id, 1), status);
    const first = await store.claimBundle(id, 1);
    t.deepEqual(first.signed, signed(5));
    t.deepEqual(first.oneTime, { id: 1, key: key(1) });
    t.deepEqual(first.oneTimeKem, { id: 10, key: kemKey(10) });
    t.deepEqual(first.left, { oneTime: 2, oneTimeKem: 1 });
    const second = await store.claimBundle(id, 1);
    t.deepEqual([second.oneTime?.id, second.oneTimeKem?.id], [2, 11]);
    // ML-KEM keys are gone: the bundle carries only an X25519 one, then neither; not an error.
    const third = await store.claimBundle(id, 1);
    t.is(third.oneTime?.id, 3);
    t.false('oneTimeKem' in third);
    const fourth = await store.claimBundle(id, 1);
    t.false('oneTime' in fourth);
    t.false('oneTimeKem' in fourth);
    t.deepEqual(fourth.signed, signed(5));
    t.deepEqual(fourth.left, { oneTime: 0, oneTimeKem: 0 });
    // The high-water marks stay after the keys are gone.
    t.deepEqual(await store.prekeyCounts(id, 1), { oneTime: 0, oneTimeKem: 0, signedId: 5, maxOneTimeId: 3, maxOneTimeKemId: 11 });
  });

  test(`${name}: every refused upload is typed and changes nothing`, async (t) => {
    const { store } = make(t, { maxOneTimeStored: 5 });
    const id = identity();
    const before = () => store.prekeyCounts(id, 1);
    // An empty upload only reads the status, even for a device that never uploaded.
    t.deepEqual(await store.uploadPrekeys(id, 1, {}), await before());
    await refused(t, store.uploadPrekeys(id, 1, { oneTime: [{ id: 1, key: key(1) }] }), 'ERR_RELAY_NOT_ALLOWED');
    t.is((await before()).signedId, 0);
    await refused(t, store.claimBundle(id, 1), 'ERR_RELAY_UNKNOWN_RECIPIENT');
    await store.uploadPrekeys(id, 1, { signed: signed(5), oneTime: range(1, 3).map((n) => ({ id: n, key: key(n) })), oneTimeKem: [{ id: 1, key: kemKey(1) }] });
    const stored = await before();
    const cases: [string, Parameters<RelayStore['uploadPrekeys']>[2], RelayErrorCode][] = [
      ['a signed id below the current', { signed: signed(4) }, 'ERR_RELAY_STALE_KEY_ID'],
      ['the current signed id with other bytes', { signed: signed(5, 99) }, 'ERR_RELAY_STALE_KEY_ID'],
      ['a one-time id at the high-water mark', { oneTime: [{ id: 3, key: key(3) }] }, 'ERR_RELAY_STALE_KEY_ID'],
      [
        'one-time ids not ascending',
        {
          oneTime: [
            { id: 7, key: key(7) },
            { id: 6, key: key(6) },
          ],
        },
        'ERR_RELAY_MALFORMED',
      ],
      [
        'one-time ids repeated',
        {
          oneTime: [
            { id: 7, key: key(7) },
            { id: 7, key: key(7) },
          ],
        },
        'ERR_RELAY_MALFORMED',
      ],
      ['an ML-KEM id at the high-water mark', { oneTimeKem: [{ id: 1, key: kemKey(1) }] }, 'ERR_RELAY_STALE_KEY_ID'],
      ['more one-time keys than the device may hold', { oneTime: range(4, 6).map((n) => ({ id: n, key: key(n) })) }, 'ERR_RELAY_QUOTA'],
      ['more ML-KEM keys than the device may hold', { oneTimeKem: range(2, 6).map((n) => ({ id: n, key: kemKey(n) })) }, 'ERR_RELAY_QUOTA'],
      ['a good signed section with a stale one-time id', { signed: signed(6), oneTime: [{ id: 2, key: key(2) }] }, 'ERR_RELAY_STALE_KEY_ID'],
    ];
    for (const [what, upload, code] of cases) {
      const error = await t.throwsAsync(store.uploadPrekeys(id, 1, upload), { instanceOf: RelayError }, what);
      t.is(error?.code, code, what);
      t.deepEqual(await before(), stored, `${what}: nothing changed`);
    }
    t.deepEqual((await store.claimBundle(id, 1)).signed, signed(5));
    // A retried upload of the current signed section is accepted; a newer one replaces it.
    t.is((await store.uploadPrekeys(id, 1, { signed: signed(5) })).signedId, 5);
    t.is((await store.uploadPrekeys(id, 1, { signed: signed(8), oneTime: [{ id: 4, key: key(4) }] })).signedId, 8);
    t.deepEqual((await store.claimBundle(id, 1)).signed, signed(8));
  });

  test(`${name}: a claimed key's id is never accepted again`, async (t) => {
    const { store } = make(t);
    const id = identity();
    await store.uploadPrekeys(id, 1, { signed: signed(1), oneTime: [{ id: 1, key: key(1) }], oneTimeKem: [{ id: 1, key: kemKey(1) }] });
    const claimed = await store.claimBundle(id, 1);
    t.is(claimed.oneTime?.id, 1);
    await refused(t, store.uploadPrekeys(id, 1, { oneTime: [{ id: 1, key: key(1) }] }), 'ERR_RELAY_STALE_KEY_ID');
    await refused(t, store.uploadPrekeys(id, 1, { oneTimeKem: [{ id: 1, key: kemKey(1) }] }), 'ERR_RELAY_STALE_KEY_ID');
    const next = await store.claimBundle(id, 1);
    t.false('oneTime' in next);
    t.false('oneTimeKem' in next);
  });

  test(`${name}: 100 concurrent claims through two instances for 50 keys of each kind: 50 distinct keys each, 50 bundles without`, async (t) => {
    const { store, sibling } = make(t);
    const other = sibling();
    const id = identity();
    await store.uploadPrekeys(id, 1, {
      signed: signed(1),
      oneTime: range(1, 50).map((n) => ({ id: n, key: key(n) })),
      oneTimeKem: range(1, 50).map((n) => ({ id: n, key: kemKey(n) })),
    });
    const bundles = await Promise.all(range(1, 100).map((i) => (i % 2 ? other : store).claimBundle(id, 1)));
    for (const kind of ['oneTime', 'oneTimeKem'] as const) {
      const ids = bundles.flatMap((b) => (b[kind] === undefined ? [] : [b[kind]!.id]));
      t.is(ids.length, 50, kind);
      t.deepEqual(
        [...new Set(ids)].sort((x, y) => x - y),
        range(1, 50),
        kind,
      );
      for (const b of bundles) if (b[kind] !== undefined) t.is(b[kind]!.key[0], b[kind]!.id, `${kind} id ${b[kind]!.id} with its own key`);
    }
    t.deepEqual(await store.prekeyCounts(id, 1), { oneTime: 0, oneTimeKem: 0, signedId: 1, maxOneTimeId: 50, maxOneTimeKemId: 50 });
  });

  test(`${name}: uploads racing claims never re-issue a claimed id`, async (t) => {
    const { store, sibling } = make(t);
    const other = sibling();
    const id = identity();
    const batch = (from: number, to: number) => ({
      oneTime: range(from, to).map((n) => ({ id: n, key: key(n) })),
      oneTimeKem: range(from, to).map((n) => ({ id: n, key: kemKey(n) })),
    });
    await store.uploadPrekeys(id, 1, { signed: signed(1), ...batch(1, 40) });
    const claims = range(1, 60).map((i) => (i % 2 ? other : store).claimBundle(id, 1));
    // In the middle of the claims: the same keys again (refused whatever was claimed yet), and fresh ones.
    const reupload = other.uploadPrekeys(id, 1, batch(1, 40));
    const fresh = store.uploadPrekeys(id, 1, batch(41, 70));
    const more = range(1, 60).map((i) => (i % 2 ? store : other).claimBundle(id, 1));
    const [reuploaded, freshStatus] = await Promise.allSettled([reupload, fresh]);
    t.is(reuploaded.status, 'rejected');
    t.is(((reuploaded as PromiseRejectedResult).reason as RelayError).code, 'ERR_RELAY_STALE_KEY_ID');
    t.is(freshStatus.status, 'fulfilled');
    const bundles = await Promise.all([...claims, ...more]);
    // Drain what is left so that every key that ever existed is accounted for.
    for (;;) {
      const b = await store.claimBundle(id, 1);
      bundles.push(b);
      if (b.oneTime === undefined && b.oneTimeKem === undefined) break;
    }
    for (const kind of ['oneTime', 'oneTimeKem'] as const) {
      const ids = bundles.flatMap((b) => (b[kind] === undefined ? [] : [b[kind]!.id]));
      t.is(new Set(ids).size, ids.length, `${kind}: no id handed out twice`);
      t.deepEqual(
        ids.sort((x, y) => x - y),
        range(1, 70),
        `${kind}: every key handed out once`,
      );
    }
  });

  test(`${name}: bad arguments are InvalidArgumentError before anything is written`, async (t) => {
    const { store } = make(t);
    const { recipient, mailbox } = await pair(store);
    const good = { recipient, device: 1, sender: identity(), senderDevice: 1, clientMessageId: cmid(), body: text('x'), now: 0 };
    const bad: [string, Promise<unknown>][] = [
      ['short recipient', store.enqueue({ ...good, recipient: recipient.subarray(1) })],
      ['device 0', store.enqueue({ ...good, device: 0 })],
      ['device 2^32', store.enqueue({ ...good, device: 2 ** 32 })],
      ['fractional sender device', store.enqueue({ ...good, senderDevice: 1.5 })],
      ['15-byte client message id', store.enqueue({ ...good, clientMessageId: cmid().subarray(1) })],
      ['a string body', store.enqueue({ ...good, body: 'x' as unknown as Uint8Array })],
      ['negative now', store.enqueue({ ...good, now: -1 })],
      ['no input', store.enqueue(undefined as never)],
      ['limit 0', store.pending(mailbox, { limit: 0, now: 0 })],
      ['negative cursor', store.pending(mailbox, { after: -1, limit: 1, now: 0 })],
      ['ack id 0', store.ack(mailbox, [0])],
      ['ack not an array', store.ack(mailbox, 1 as never)],
      ['mailbox without device', store.pending({ identity: recipient } as never, { limit: 1, now: 0 })],
      ['register device 0', store.registerDevice(recipient, 0, 0)],
      ['list with a short identity', store.listDevices(new Uint8Array(31))],
      ['purge at NaN', store.purgeExpired(Number.NaN)],
      ['a 31-byte one-time key', store.uploadPrekeys(recipient, 1, { signed: signed(1), oneTime: [{ id: 1, key: new Uint8Array(31) }] })],
      ['an empty signed section', store.uploadPrekeys(recipient, 1, { signed: { id: 1, bytes: new Uint8Array(0) } })],
      ['signed id 0', store.uploadPrekeys(recipient, 1, { signed: signed(0) })],
      ['one-time id 0', store.uploadPrekeys(recipient, 1, { signed: signed(1), oneTimeKem: [{ id: 0, key: kemKey(0) }] })],
      ['claim for device 0', store.claimBundle(recipient, 0)],
    ];
    for (const [what, promise] of bad) await t.throwsAsync(promise, { instanceOf: InvalidArgumentError }, what);
    t.deepEqual(await store.pending(mailbox, { limit: 10, now: 0 }), []);
    t.deepEqual(await store.prekeyCounts(recipient, 1), { oneTime: 0, oneTimeKem: 0, signedId: 0, maxOneTimeId: 0, maxOneTimeKemId: 0 });
  });

  test(`${name}: a closed store refuses calls with InvalidStateError; closing twice is fine`, async (t) => {
    const { store } = make(t);
    const { mailbox } = await pair(store);
    await store.close();
    await store.close();
    await t.throwsAsync(store.pending(mailbox, { limit: 1, now: 0 }), { instanceOf: InvalidStateError });
    await t.throwsAsync(store.registerDevice(identity(), 1, 0), { instanceOf: InvalidStateError });
    await t.throwsAsync(store.claimBundle(identity(), 1), { instanceOf: InvalidStateError });
  });
}

test('both stores refuse missing or bad limits with InvalidArgumentError', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-relay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'relay.db');
  // Limits are checked before a pool is made, so no server is needed (nothing listens on port 1).
  const nowhere = 'postgres://127.0.0.1:1/none';
  t.throws(() => new SqliteRelayStore(path, undefined as never), { instanceOf: InvalidArgumentError });
  t.throws(() => new SqliteRelayStore(path, { limits: { ...LIMITS, ttlMs: 0 } }), { instanceOf: InvalidArgumentError });
  t.throws(() => new PgRelayStore({ postgres: nowhere, limits: { ...LIMITS, quotaBytes: 1.5 } }), { instanceOf: InvalidArgumentError });
  // A relay may keep fewer prekeys and devices than the protocol allows, never more.
  t.throws(() => new SqliteRelayStore(path, { limits: { ...LIMITS, maxOneTimeStored: 101 } }), { instanceOf: InvalidArgumentError, message: /at most 100/ });
  t.throws(() => new PgRelayStore({ postgres: nowhere, limits: { ...LIMITS, maxDevices: 65 } }), { instanceOf: InvalidArgumentError, message: /at most 64/ });
  t.throws(() => new PgRelayStore({ postgres: 42 as never, limits: LIMITS }), { instanceOf: InvalidArgumentError });
});

test('SQLite: a relay file a newer keyward migrated is refused with InvalidStateError and left as it was', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-relay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'relay.db');
  await new SqliteRelayStore(path, { limits: LIMITS }).close();
  const { db } = openSqlite(path);
  t.is(db.prepare("SELECT version FROM keyward_schema WHERE part = 'relay'").get()?.version, relayMigrations.relay.length);
  db.prepare("UPDATE keyward_schema SET version = 99 WHERE part = 'relay'").run();
  db.close();
  const error = t.throws(() => new SqliteRelayStore(path, { limits: LIMITS }), { instanceOf: InvalidStateError });
  t.regex(error!.message, /relay schema is at version 99/);
});

test('postgres: ten instances migrating a fresh database at once all succeed, at one version', async (t) => {
  // A schema of its own, so this first run is really the first, whatever other runs share the server.
  const schema = `kw_relay_${randomBytes(4).toString('hex')}`;
  const admin = new Pool({ connectionString: pgUrl() });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pools = range(1, 10).map(() => new Pool({ connectionString: pgUrl(), options: `-c search_path=${schema}`, max: 2 }));
  t.teardown(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  const versions = await Promise.all(pools.map((pool) => migrateRelayPostgres(pool)));
  t.deepEqual(
    versions,
    pools.map(() => relayMigrations.relay_postgres.length),
  );
  // And the store works on it, through a pool the application owns (left open by close()).
  const store = new PgRelayStore({ postgres: pools[0], limits: LIMITS });
  const id = identity();
  await store.registerDevice(id, 1, 0);
  t.deepEqual(await store.listDevices(id), [1]);
  await store.close();
  t.is((await pools[0].query('SELECT 1 AS one')).rows[0].one, 1);
  await pools[0].query("UPDATE keyward_schema SET version = 99 WHERE part = 'relay_postgres'");
  const newer = new PgRelayStore({ postgres: pools[1], limits: LIMITS });
  await t.throwsAsync(newer.listDevices(id), { instanceOf: InvalidStateError, message: /relay_postgres schema is at version 99/ });
  await newer.close();
});

test('postgres: PostgreSQL down: calls are RelayError ERR_RELAY_UNAVAILABLE, without the connection string in the message', async (t) => {
  // Port 1 on loopback: nothing listens there, so every connection is refused at once.
  const store = new PgRelayStore({ postgres: 'postgresql://relay:s3cret-pw@127.0.0.1:1/relay', limits: LIMITS });
  t.teardown(() => store.close());
  const id = identity();
  for (const call of [
    () => store.registerDevice(id, 1, 0),
    () => store.listDevices(id),
    () => store.enqueue({ recipient: id, device: 1, sender: id, senderDevice: 1, clientMessageId: cmid(), body: text('x'), now: 0 }),
    () => store.claimBundle(id, 1),
  ]) {
    const error = await t.throwsAsync(call(), { instanceOf: RelayError });
    t.is(error?.code, 'ERR_RELAY_UNAVAILABLE');
    t.notRegex(error?.message ?? '', /s3cret|relay@/);
    t.truthy((error as Error & { cause?: unknown }).cause, 'the database error is kept for logs');
  }
});

test('SQLite locked by another connection past the busy timeout: writes are ERR_RELAY_UNAVAILABLE, and work once it lets go', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-relay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'relay.db');
  const store = new SqliteRelayStore(path, { limits: LIMITS, busyTimeoutMs: 0 });
  t.teardown(() => store.close());
  const id = identity();
  await store.registerDevice(id, 1, 0);
  const { db: other } = openSqlite(path);
  other.exec('BEGIN IMMEDIATE');
  const send = () => store.enqueue({ recipient: id, device: 1, sender: id, senderDevice: 1, clientMessageId: cmid(), body: text('x'), now: 0 });
  await refused(t, send(), 'ERR_RELAY_UNAVAILABLE');
  await refused(t, store.claimBundle(id, 1), 'ERR_RELAY_UNAVAILABLE');
  // Reads go on under WAL while another connection writes.
  t.deepEqual(await store.pending({ identity: id, device: 1 }, { limit: 1, now: 0 }), []);
  other.exec('ROLLBACK');
  other.close();
  t.is((await send()).messageId, 1);
  t.throws(() => new SqliteRelayStore(path, { limits: LIMITS, busyTimeoutMs: -1 }), { instanceOf: InvalidArgumentError });
});
