/**
 * The relay's store in PostgreSQL (`pg`, an optional peer dependency), for
 * several relay instances sharing one database. A call resolves after its
 * transaction committed.
 *
 * Concurrency, by row locks rather than a global lock:
 * - a mailbox's head row (`keyward_relay_devices`) is locked `FOR UPDATE`
 *   by every write to that mailbox (enqueue, ack, expiry), so concurrent
 *   senders get one total order of message ids with no gap, and the quota
 *   counts kept in that row are exact;
 * - a claim locks the device's prekey row, then deletes one key of each kind
 *   through `FOR UPDATE SKIP LOCKED`: claims on one device take turns, so
 *   each gets a pair while both kinds last and no key goes out twice (claims
 *   on other devices do not wait);
 * - an upload locks the same row, so its id checks and the high-water marks
 *   it raises are one step, and a claim sees the upload whole or not at all.
 * Lock order is always head (or prekey) row first, then its rows, so these
 * transactions cannot deadlock each other.
 */
import { InvalidArgumentError, InvalidStateError, KeywardError } from '../errors';
import { migrateRelayPostgres } from './migrations';
import {
  type ClaimedBundle,
  checkUpload,
  deviceArg,
  type EnqueueAllInput,
  type Enqueued,
  type EnqueuedAll,
  type EnqueueInput,
  enqueueAllArg,
  enqueueArg,
  identityArg,
  limitsArg,
  type Mailbox,
  mailboxArg,
  messageIdsArg,
  noPrekeys,
  ONE_TIME_KEM,
  ONE_TIME_X25519,
  type PrekeyStatus,
  type PrekeyUploadInput,
  pendingArg,
  quotaError,
  type RelayStore,
  type RelayStoreLimits,
  type StoredMessage,
  timeArg,
  tooManyDevices,
  unavailable,
  unknownDevice,
  uploadArg,
} from './store';

type Rows = { rows: Record<string, unknown>[]; rowCount?: number | null };
type Query = (sql: string, params?: unknown[]) => Promise<Rows>;

/** What the store uses of a `pg` Pool. */
export interface RelayPgPool {
  query(sql: string, params?: unknown[]): Promise<Rows>;
  connect(): Promise<{ query(sql: string, params?: unknown[]): Promise<Rows>; release(destroy?: boolean): void }>;
  end(): Promise<void>;
}

/** Options of `PgRelayStore`. */
export interface PgRelayStoreOptions {
  /** A PostgreSQL connection string, or the application's own `pg` Pool (which `close()` then leaves open). */
  postgres: string | RelayPgPool;
  /** The limits to enforce: crates/relay's values (or lower), passed by the server. */
  limits: RelayStoreLimits;
}

/** Advisory lock class for "one identity's device list" (two-key form: its own space, apart from the migrations' one-key lock). */
const DEVICE_LIST_LOCK = 7210612;

const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const bytes = (value: unknown) => new Uint8Array(value as Buffer);

/** A `RelayStore` in PostgreSQL, shared by every relay instance. */
export class PgRelayStore implements RelayStore {
  readonly #pool: RelayPgPool;
  readonly #owned: boolean;
  readonly #limits: RelayStoreLimits;
  #ready: Promise<unknown>;
  #closed = false;

  /**
   * Connects lazily (or uses the pool given); a connection string needs the
   * optional peer `pg`. The schema is migrated on first use
   * (src/relay/migrations.ts). Missing or bad limits, or a `postgres` that is
   * neither → `InvalidArgumentError`.
   */
  constructor(options: PgRelayStoreOptions) {
    this.#limits = limitsArg(options?.limits);
    const given = typeof options.postgres === 'object' && options.postgres !== null;
    if (!(typeof options.postgres === 'string' || (given && typeof (options.postgres as RelayPgPool).connect === 'function'))) {
      throw new InvalidArgumentError('options.postgres must be a connection string or a pg Pool');
    }
    if (typeof options.postgres === 'string') {
      const { Pool } = require('pg') as { Pool: new (config: { connectionString: string; max?: number }) => RelayPgPool };
      this.#pool = new Pool({ connectionString: options.postgres, max: 10 });
    } else {
      this.#pool = options.postgres;
    }
    this.#owned = !given;
    this.#ready = migrateRelayPostgres(this.#pool);
    // Reported by the first call that needs the tables, not as an unhandled rejection.
    this.#ready.catch(() => {});
  }

  /** Resolves once the schema is migrated; every call waits for it anyway. */
  ready(): Promise<unknown> {
    return this.#ready;
  }

  /** Waits for the migration; one that failed for want of the database is tried again by the next call. */
  async #whenReady() {
    try {
      await this.#ready;
    } catch (error) {
      if (!(error instanceof KeywardError)) {
        this.#ready = migrateRelayPostgres(this.#pool);
        this.#ready.catch(() => {});
      }
      throw error;
    }
  }

  async #query(sql: string, params?: unknown[]): Promise<Rows> {
    if (this.#closed) throw new InvalidStateError('this PgRelayStore is closed');
    try {
      await this.#whenReady();
      return await this.#pool.query(sql, params);
    } catch (error) {
      throw error instanceof KeywardError ? error : unavailable(error);
    }
  }

  /** Runs `fn` in one transaction on one connection; a throw rolls it back. */
  async #tx<R>(fn: (q: Query) => Promise<R>): Promise<R> {
    if (this.#closed) throw new InvalidStateError('this PgRelayStore is closed');
    try {
      return await this.#runTx(fn);
    } catch (error) {
      // The store's own refusals pass through; anything from the database (down, a lost connection, a deadlock) is UNAVAILABLE.
      throw error instanceof KeywardError ? error : unavailable(error);
    }
  }

  async #runTx<R>(fn: (q: Query) => Promise<R>): Promise<R> {
    await this.#whenReady();
    const client = await this.#pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const result = await fn((sql, params) => client.query(sql, params));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A connection that cannot roll back is not given back to the pool.
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  async registerDevice(identity: Uint8Array, device: number, now: number) {
    identityArg(identity);
    deviceArg(device);
    timeArg(now);
    return this.#tx(async (q) => {
      // Two new devices of one identity registering at once must not both pass the cap.
      await q("SELECT pg_advisory_xact_lock($1, hashtext(encode($2, 'hex')))", [DEVICE_LIST_LOCK, buf(identity)]);
      const { rows } = await q('SELECT device FROM keyward_relay_devices WHERE identity = $1', [buf(identity)]);
      if (rows.some((r) => Number(r.device) === device)) return { created: false };
      if (rows.length >= this.#limits.maxDevices) throw tooManyDevices(this.#limits.maxDevices);
      await q('INSERT INTO keyward_relay_devices (identity, device, registered_at) VALUES ($1, $2, $3)', [buf(identity), device, now]);
      return { created: true };
    });
  }

  async listDevices(identity: Uint8Array) {
    identityArg(identity);
    const { rows } = await this.#query('SELECT device FROM keyward_relay_devices WHERE identity = $1 ORDER BY device', [buf(identity)]);
    return rows.map((r) => Number(r.device));
  }

  async enqueue(message: EnqueueInput): Promise<Enqueued> {
    const m = enqueueArg(message);
    return this.#tx(async (q) => {
      // The mailbox's lock: senders to it commit one after another, in message id order.
      const head = (
        await q('SELECT device, next_id, held_messages, held_bytes FROM keyward_relay_devices WHERE identity = $1 AND device = $2 FOR UPDATE', [
          buf(m.recipient),
          m.device,
        ])
      ).rows[0];
      if (head === undefined) throw unknownDevice();
      const sent = await this.#sentKey(q, m, m.device);
      if (sent !== undefined) return { ...sent, duplicate: true };
      await this.#room(q, m, head);
      return { messageId: await this.#store(q, m, head), storedAt: m.now, duplicate: false };
    });
  }

  async enqueueAll(message: EnqueueAllInput): Promise<EnqueuedAll> {
    const m = enqueueAllArg(message);
    return this.#tx(async (q) => {
      // Every mailbox of the identity, locked in device order (as a single enqueue locks one), so no two sends deadlock.
      const { rows: heads } = await q(
        'SELECT device, next_id, held_messages, held_bytes FROM keyward_relay_devices WHERE identity = $1 ORDER BY device FOR UPDATE',
        [buf(m.recipient)],
      );
      if (heads.length === 0) throw unknownDevice();
      const sent: { device: number; messageId: number; storedAt: number }[] = [];
      for (const h of heads) {
        const key = await this.#sentKey(q, m, Number(h.device));
        if (key !== undefined) sent.push({ device: Number(h.device), ...key });
      }
      // The key covers every copy: a retry stores nothing, even in a device registered since.
      if (sent.length > 0) return { copies: sent.map(({ device, messageId }) => ({ device, messageId })), storedAt: sent[0].storedAt, duplicate: true };
      for (const head of heads) await this.#room(q, m, head);
      const copies: { device: number; messageId: number }[] = [];
      for (const head of heads) copies.push({ device: Number(head.device), messageId: await this.#store(q, m, head) });
      return { copies, storedAt: m.now, duplicate: false };
    });
  }

  /** The live idempotency key of this message in one mailbox, if any. */
  async #sentKey(q: Query, m: EnqueueAllInput, device: number) {
    const sent = (
      await q(
        `SELECT message_id, stored_at FROM keyward_relay_sent
         WHERE identity = $1 AND device = $2 AND sender = $3 AND sender_device = $4 AND client_message_id = $5 AND expires_at > $6`,
        [buf(m.recipient), device, buf(m.sender), m.senderDevice, buf(m.clientMessageId), m.now],
      )
    ).rows[0];
    return sent === undefined ? undefined : { messageId: Number(sent.message_id), storedAt: Number(sent.stored_at) };
  }

  /** Throws the quota refusal unless the mailbox of `head` (locked) has room for the body, after clearing its expired messages if full. */
  async #room(q: Query, m: EnqueueAllInput, head: Record<string, unknown>) {
    let held = { messages: Number(head.held_messages), bytes: Number(head.held_bytes) };
    const fits = () => held.messages + 1 <= this.#limits.quotaMessages && held.bytes + m.body.length <= this.#limits.quotaBytes;
    if (fits()) return;
    // Full: expired messages no longer count, so clear this mailbox's before refusing.
    held = await this.#purgeMailbox(q, [buf(m.recipient), Number(head.device)], m.now);
    if (!fits()) throw quotaError();
  }

  /** Stores the message in the mailbox of `head` (locked) with its next id, with its idempotency key; answers the id. */
  async #store(q: Query, m: EnqueueAllInput, head: Record<string, unknown>): Promise<number> {
    const box = [buf(m.recipient), Number(head.device)];
    const id = Number(head.next_id);
    const expires = m.now + this.#limits.ttlMs;
    await q('INSERT INTO keyward_relay_messages VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      ...box,
      id,
      buf(m.sender),
      m.senderDevice,
      m.now,
      expires,
      m.body.length,
      buf(m.body),
    ]);
    // An expired key of an earlier message may still be there (not purged yet): the new one replaces it.
    await q(
      `INSERT INTO keyward_relay_sent VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (identity, device, sender, sender_device, client_message_id)
       DO UPDATE SET message_id = excluded.message_id, stored_at = excluded.stored_at, expires_at = excluded.expires_at`,
      [...box, buf(m.sender), m.senderDevice, buf(m.clientMessageId), id, m.now, expires],
    );
    await q(
      'UPDATE keyward_relay_devices SET next_id = $3, held_messages = held_messages + 1, held_bytes = held_bytes + $4 WHERE identity = $1 AND device = $2',
      [...box, id + 1, m.body.length],
    );
    return id;
  }

  /** Deletes the mailbox's expired messages and answers what it then holds; the caller holds the head row's lock. */
  async #purgeMailbox(q: Query, box: unknown[], now: number) {
    const { rows } = await q(
      `WITH gone AS (DELETE FROM keyward_relay_messages WHERE identity = $1 AND device = $2 AND expires_at <= $3 RETURNING size)
       UPDATE keyward_relay_devices SET held_messages = held_messages - (SELECT count(*) FROM gone),
         held_bytes = held_bytes - (SELECT coalesce(sum(size), 0) FROM gone)
       WHERE identity = $1 AND device = $2 RETURNING held_messages, held_bytes`,
      [...box, now],
    );
    return { messages: Number(rows[0].held_messages), bytes: Number(rows[0].held_bytes) };
  }

  async pending(mailbox: Mailbox, options: { after?: number; limit: number; now: number }): Promise<StoredMessage[]> {
    const { identity, device } = mailboxArg(mailbox);
    const { after, limit, now } = pendingArg(options);
    const { rows } = await this.#query(
      `SELECT id, sender, sender_device, received_at, body FROM keyward_relay_messages
       WHERE identity = $1 AND device = $2 AND id > $3 AND expires_at > $4 ORDER BY id LIMIT $5`,
      [buf(identity), device, after, now, limit],
    );
    return rows.map((r) => ({
      messageId: Number(r.id),
      sender: bytes(r.sender),
      senderDevice: Number(r.sender_device),
      receivedAt: Number(r.received_at),
      body: bytes(r.body),
    }));
  }

  async ack(mailbox: Mailbox, messageIds: readonly number[]) {
    const { identity, device } = mailboxArg(mailbox);
    const ids = messageIdsArg(messageIds);
    if (ids.length === 0) return 0;
    const box = [buf(identity), device];
    return this.#tx(async (q) => {
      const head = await q('SELECT 1 FROM keyward_relay_devices WHERE identity = $1 AND device = $2 FOR UPDATE', box);
      if (head.rows.length === 0) return 0;
      const { rows } = await q(
        `WITH gone AS (DELETE FROM keyward_relay_messages WHERE identity = $1 AND device = $2 AND id = ANY($3::bigint[]) RETURNING size)
         UPDATE keyward_relay_devices SET held_messages = held_messages - (SELECT count(*) FROM gone),
           held_bytes = held_bytes - (SELECT coalesce(sum(size), 0) FROM gone)
         WHERE identity = $1 AND device = $2 RETURNING (SELECT count(*) FROM gone) AS n`,
        [...box, ids],
      );
      return Number(rows[0].n);
    });
  }

  async purgeExpired(now: number) {
    timeArg(now);
    const { rows: boxes } = await this.#query('SELECT DISTINCT identity, device FROM keyward_relay_messages WHERE expires_at <= $1', [now]);
    let count = 0;
    // One transaction per mailbox, head row first, as every other write takes its locks.
    for (const { identity, device } of boxes) {
      count += await this.#tx(async (q) => {
        const box = [identity, device];
        const head = (await q('SELECT held_messages FROM keyward_relay_devices WHERE identity = $1 AND device = $2 FOR UPDATE', box)).rows[0];
        if (head === undefined) return 0;
        return Number(head.held_messages) - (await this.#purgeMailbox(q, box, now)).messages;
      });
    }
    await this.#query('DELETE FROM keyward_relay_sent WHERE expires_at <= $1', [now]);
    return count;
  }

  async #status(q: Query, box: unknown[], lock: boolean): Promise<PrekeyStatus & { signedBytes?: Uint8Array }> {
    const row = (
      await q(
        `SELECT signed_id, signed, max_one_time_id, max_kem_id FROM keyward_relay_prekeys WHERE identity = $1 AND device = $2${lock ? ' FOR UPDATE' : ''}`,
        box,
      )
    ).rows[0];
    const counts = (await q('SELECT kind, count(*) AS n FROM keyward_relay_one_time WHERE identity = $1 AND device = $2 GROUP BY kind', box)).rows;
    const held = (kind: number) => Number(counts.find((r) => Number(r.kind) === kind)?.n ?? 0);
    return {
      oneTime: held(ONE_TIME_X25519),
      oneTimeKem: held(ONE_TIME_KEM),
      signedId: Number(row?.signed_id ?? 0),
      maxOneTimeId: Number(row?.max_one_time_id ?? 0),
      maxOneTimeKemId: Number(row?.max_kem_id ?? 0),
      ...(row === undefined ? {} : { signedBytes: bytes(row.signed) }),
    };
  }

  async uploadPrekeys(identity: Uint8Array, device: number, upload: PrekeyUploadInput): Promise<PrekeyStatus> {
    identityArg(identity);
    deviceArg(device);
    const u = uploadArg(upload);
    const box = [buf(identity), device];
    return this.#tx(async (q) => {
      if (u.signed !== undefined) {
        // A row to lock even on a first upload (two first uploads at once then take turns); rolled back if the upload is refused.
        await q("INSERT INTO keyward_relay_prekeys (identity, device, signed_id, signed) VALUES ($1, $2, 0, '\\x') ON CONFLICT DO NOTHING", box);
      }
      const status = await this.#status(q, box, true);
      const { replaceSigned } = checkUpload(status, u, this.#limits.maxOneTimeStored);
      if (replaceSigned) {
        await q('UPDATE keyward_relay_prekeys SET signed_id = $3, signed = $4 WHERE identity = $1 AND device = $2', [
          ...box,
          replaceSigned.id,
          buf(replaceSigned.bytes),
        ]);
      }
      for (const [kind, keys, column] of [
        [ONE_TIME_X25519, u.oneTime, 'max_one_time_id'],
        [ONE_TIME_KEM, u.oneTimeKem, 'max_kem_id'],
      ] as const) {
        if (keys.length === 0) continue;
        await q(
          'INSERT INTO keyward_relay_one_time (identity, device, kind, id, key) SELECT $1::bytea, $2::bigint, $3::smallint, * FROM unnest($4::bigint[], $5::bytea[])',
          [...box, kind, keys.map((k) => k.id), keys.map((k) => buf(k.key))],
        );
        // The high-water marks only go up: they are what refuses a claimed id uploaded again.
        await q(`UPDATE keyward_relay_prekeys SET ${column} = $3 WHERE identity = $1 AND device = $2`, [...box, keys[keys.length - 1].id]);
      }
      const { signedBytes: _, ...after } = await this.#status(q, box, false);
      return after;
    });
  }

  async claimBundle(identity: Uint8Array, device: number): Promise<ClaimedBundle> {
    identityArg(identity);
    deviceArg(device);
    const box = [buf(identity), device];
    return this.#tx(async (q) => {
      // FOR UPDATE: claims on one device take turns, so each takes one key of EACH kind while
      // both last (with only SKIP LOCKED below, one claim could get the last X25519 key and
      // another the last ML-KEM one, and neither a pair). Claims on other devices go on.
      const row = (await q('SELECT signed_id, signed FROM keyward_relay_prekeys WHERE identity = $1 AND device = $2 AND signed_id > 0 FOR UPDATE', box))
        .rows[0];
      if (row === undefined) throw noPrekeys();
      const take = async (kind: number) => {
        // SKIP LOCKED: a key row some other transaction holds is passed over, never handed out twice.
        const { rows } = await q(
          `DELETE FROM keyward_relay_one_time WHERE (identity, device, kind, id) = (
             SELECT identity, device, kind, id FROM keyward_relay_one_time WHERE identity = $1 AND device = $2 AND kind = $3
             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING id, key`,
          [...box, kind],
        );
        return rows[0] === undefined ? undefined : { id: Number(rows[0].id), key: bytes(rows[0].key) };
      };
      const oneTime = await take(ONE_TIME_X25519);
      const oneTimeKem = await take(ONE_TIME_KEM);
      const { oneTime: leftX, oneTimeKem: leftKem } = await this.#status(q, box, false);
      return {
        signed: { id: Number(row.signed_id), bytes: bytes(row.signed) },
        ...(oneTime && { oneTime }),
        ...(oneTimeKem && { oneTimeKem }),
        left: { oneTime: leftX, oneTimeKem: leftKem },
      };
    });
  }

  async prekeyCounts(identity: Uint8Array, device: number): Promise<PrekeyStatus> {
    identityArg(identity);
    deviceArg(device);
    const box = [buf(identity), device];
    const { signedBytes: _, ...status } = await this.#status((sql, params) => this.#query(sql, params), box, false);
    return status;
  }

  /** Closes the pool this store opened (a pool the application passed in stays open); later calls throw `InvalidStateError`. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) await this.#pool.end();
  }
}
