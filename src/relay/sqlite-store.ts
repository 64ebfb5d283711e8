/**
 * The relay's store in one SQLite file, through src/auth/sqlite-driver.ts
 * (`node:sqlite` where this Node has it, else `better-sqlite3`).
 *
 * WAL with `synchronous = FULL`: a commit is fsynced before it returns, so a
 * message answered SENT survives the process being killed and the machine
 * losing power (docs/relay.md "SENT means durable"). Locking is the
 * operating system's file locks, which a killed process releases; SQLite
 * rolls the log forward or back on open, so a restart needs no cleanup.
 *
 * Every write is one `BEGIN IMMEDIATE` transaction, run synchronously: on one
 * connection nothing interleaves with it, and other connections (other
 * processes, or other stores on the same file) wait for the write lock
 * (busy timeout). That gives each mailbox its total order, and each claim
 * its keys alone, without row locks.
 */

import { openSqlite, type SqliteBackend, type SqliteDatabase, type SqliteStatement } from '../auth/sqlite-driver';
import { InvalidArgumentError, InvalidStateError } from '../errors';
import { migrateRelaySqlite } from './migrations';
import {
  type ClaimedBundle,
  checkUpload,
  countArg,
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

const BUSY_TIMEOUT_MS = 5000;

const pragmas = (busyTimeoutMs: number) => `
  PRAGMA busy_timeout = ${busyTimeoutMs};
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = FULL;
`;

/** Options of `SqliteRelayStore`. */
export interface SqliteRelayStoreOptions {
  /** The limits to enforce: crates/relay's values (or lower), passed by the server. */
  limits: RelayStoreLimits;
  /** How long a write waits for another connection's write lock before it is `ERR_RELAY_UNAVAILABLE`; 5000 ms by default. */
  busyTimeoutMs?: number;
}

/** SQLITE_BUSY as either binding reports it: another connection held the write lock past the busy timeout. */
const isBusy = (error: unknown) => {
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown };
  return e?.code === 'SQLITE_BUSY' || (typeof e?.errcode === 'number' && (e.errcode & 0xff) === 5) || /database is locked/.test(String(e?.message));
};

const bytes = (value: unknown) => new Uint8Array(value as Uint8Array);

/** A `RelayStore` in one SQLite file that several processes on one machine may share. */
export class SqliteRelayStore implements RelayStore {
  /** The SQLite binding in use. */
  readonly backend: SqliteBackend;
  readonly #db: SqliteDatabase;
  readonly #limits: RelayStoreLimits;
  readonly #statements = new Map<string, SqliteStatement>();
  #closed = false;

  /**
   * Opens (or creates) the database file at `path` and migrates its schema
   * (src/relay/migrations.ts). Throws `SqliteUnavailableError` when this Node
   * has no SQLite binding, `InvalidArgumentError` for missing or bad limits
   * or a path that is not a non-empty string, `InvalidStateError` for a
   * schema a newer keyward wrote.
   */
  constructor(path: string, options: SqliteRelayStoreOptions) {
    this.#limits = limitsArg(options?.limits);
    const busyTimeoutMs = options.busyTimeoutMs === undefined ? BUSY_TIMEOUT_MS : countArg(options.busyTimeoutMs, 'options.busyTimeoutMs', 0);
    // A NUL byte is refused here: Node 22 and later throw a bare TypeError for it when opening.
    if (typeof path !== 'string' || path === '' || path.includes('\0'))
      throw new InvalidArgumentError('SqliteRelayStore takes a file path (without NUL bytes)');
    const opened = openSqlite(path);
    this.backend = opened.backend;
    this.#db = opened.db;
    try {
      this.#db.exec(pragmas(busyTimeoutMs));
      migrateRelaySqlite(this.#db);
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  #sql(sql: string): SqliteStatement {
    if (this.#closed) throw new InvalidStateError('this SqliteRelayStore is closed');
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` as one write transaction; a throw rolls everything back. */
  #write<R>(fn: () => R): R {
    if (this.#closed) throw new InvalidStateError('this SqliteRelayStore is closed');
    try {
      this.#db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      throw isBusy(error) ? unavailable(error) : error;
    }
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  async registerDevice(identity: Uint8Array, device: number, now: number) {
    identityArg(identity);
    deviceArg(device);
    timeArg(now);
    return this.#write(() => {
      if (this.#sql('SELECT 1 FROM relay_devices WHERE identity = ? AND device = ?').get(identity, device) !== undefined) return { created: false };
      const { n } = this.#sql('SELECT count(*) AS n FROM relay_devices WHERE identity = ?').get(identity) as { n: number };
      if (Number(n) >= this.#limits.maxDevices) throw tooManyDevices(this.#limits.maxDevices);
      this.#sql('INSERT INTO relay_devices (identity, device, registered_at) VALUES (?, ?, ?)').run(identity, device, now);
      return { created: true };
    });
  }

  async listDevices(identity: Uint8Array) {
    identityArg(identity);
    return this.#sql('SELECT device FROM relay_devices WHERE identity = ? ORDER BY device')
      .all(identity)
      .map((r) => Number(r.device));
  }

  async enqueue(message: EnqueueInput): Promise<Enqueued> {
    const m = enqueueArg(message);
    return this.#write(() => {
      const head = this.#sql('SELECT device, next_id, held_messages, held_bytes FROM relay_devices WHERE identity = ? AND device = ?').get(
        m.recipient,
        m.device,
      );
      if (head === undefined) throw unknownDevice();
      const sent = this.#sentKey(m, m.device);
      if (sent !== undefined) return { ...sent, duplicate: true };
      this.#room(m, head);
      return { messageId: this.#store(m, head), storedAt: m.now, duplicate: false };
    });
  }

  async enqueueAll(message: EnqueueAllInput): Promise<EnqueuedAll> {
    const m = enqueueAllArg(message);
    return this.#write(() => {
      const heads = this.#sql('SELECT device, next_id, held_messages, held_bytes FROM relay_devices WHERE identity = ? ORDER BY device').all(m.recipient);
      if (heads.length === 0) throw unknownDevice();
      const sent = heads.flatMap((h) => {
        const key = this.#sentKey(m, Number(h.device));
        return key === undefined ? [] : [{ device: Number(h.device), ...key }];
      });
      // The key covers every copy: a retry stores nothing, even in a device registered since.
      if (sent.length > 0) return { copies: sent.map(({ device, messageId }) => ({ device, messageId })), storedAt: sent[0].storedAt, duplicate: true };
      // Every mailbox is checked before any copy is stored: all or nothing (a refusal also rolls back).
      for (const head of heads) this.#room(m, head);
      return { copies: heads.map((head) => ({ device: Number(head.device), messageId: this.#store(m, head) })), storedAt: m.now, duplicate: false };
    });
  }

  /** The live idempotency key of this message in one mailbox, if any. */
  #sentKey(m: EnqueueAllInput, device: number) {
    const sent = this.#sql(
      'SELECT message_id, stored_at FROM relay_sent WHERE identity = ? AND device = ? AND sender = ? AND sender_device = ? AND client_message_id = ? AND expires_at > ?',
    ).get(m.recipient, device, m.sender, m.senderDevice, m.clientMessageId, m.now);
    return sent === undefined ? undefined : { messageId: Number(sent.message_id), storedAt: Number(sent.stored_at) };
  }

  /** Throws the quota refusal unless the mailbox of `head` has room for the body (after clearing its expired messages if full). */
  #room(m: EnqueueAllInput, head: Record<string, unknown>) {
    let held = { messages: Number(head.held_messages), bytes: Number(head.held_bytes) };
    const fits = () => held.messages + 1 <= this.#limits.quotaMessages && held.bytes + m.body.length <= this.#limits.quotaBytes;
    if (fits()) return;
    // Full: expired messages no longer count, so clear this mailbox's before refusing.
    held = this.#purgeMailbox(m.recipient, Number(head.device), m.now);
    if (!fits()) throw quotaError();
  }

  /** Stores the message in the mailbox of `head` with its next id, with its idempotency key; answers the id. */
  #store(m: EnqueueAllInput, head: Record<string, unknown>): number {
    const device = Number(head.device);
    const id = Number(head.next_id);
    const expires = m.now + this.#limits.ttlMs;
    this.#sql('INSERT INTO relay_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      m.recipient,
      device,
      id,
      m.sender,
      m.senderDevice,
      m.now,
      expires,
      m.body.length,
      m.body,
    );
    // An expired key of an earlier message may still be there (not purged yet): the new one replaces it.
    this.#sql('INSERT OR REPLACE INTO relay_sent VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      m.recipient,
      device,
      m.sender,
      m.senderDevice,
      m.clientMessageId,
      id,
      m.now,
      expires,
    );
    this.#sql('UPDATE relay_devices SET next_id = ?, held_messages = held_messages + 1, held_bytes = held_bytes + ? WHERE identity = ? AND device = ?').run(
      id + 1,
      m.body.length,
      m.recipient,
      device,
    );
    return id;
  }

  /** Deletes the mailbox's expired messages and answers what it then holds; inside a write transaction. */
  #purgeMailbox(identity: Uint8Array, device: number, now: number) {
    const gone = this.#sql('SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM relay_messages WHERE identity = ? AND device = ? AND expires_at <= ?').get(
      identity,
      device,
      now,
    ) as { n: number; b: number };
    if (Number(gone.n) > 0) {
      this.#sql('DELETE FROM relay_messages WHERE identity = ? AND device = ? AND expires_at <= ?').run(identity, device, now);
      this.#sql('UPDATE relay_devices SET held_messages = held_messages - ?, held_bytes = held_bytes - ? WHERE identity = ? AND device = ?').run(
        gone.n,
        gone.b,
        identity,
        device,
      );
    }
    // The caller holds the write lock and found the device's row, so it is there.
    const head = this.#sql('SELECT held_messages, held_bytes FROM relay_devices WHERE identity = ? AND device = ?').get(identity, device);
    return { messages: Number(head?.held_messages), bytes: Number(head?.held_bytes) };
  }

  async pending(mailbox: Mailbox, options: { after?: number; limit: number; now: number }): Promise<StoredMessage[]> {
    const { identity, device } = mailboxArg(mailbox);
    const { after, limit, now } = pendingArg(options);
    const rows = this.#sql(
      `SELECT id, sender, sender_device, received_at, body FROM relay_messages
       WHERE identity = ? AND device = ? AND id > ? AND expires_at > ? ORDER BY id LIMIT ?`,
    ).all(identity, device, after, now, limit);
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
    return this.#write(() => {
      let count = 0;
      let size = 0;
      for (const id of ids) {
        const row = this.#sql('DELETE FROM relay_messages WHERE identity = ? AND device = ? AND id = ? RETURNING size').get(identity, device, id);
        if (row === undefined) continue;
        count += 1;
        size += Number(row.size);
      }
      if (count > 0) {
        this.#sql('UPDATE relay_devices SET held_messages = held_messages - ?, held_bytes = held_bytes - ? WHERE identity = ? AND device = ?').run(
          count,
          size,
          identity,
          device,
        );
      }
      return count;
    });
  }

  async purgeExpired(now: number) {
    timeArg(now);
    return this.#write(() => {
      const mailboxes = this.#sql('SELECT DISTINCT identity, device FROM relay_messages WHERE expires_at <= ?').all(now);
      let count = 0;
      for (const { identity, device } of mailboxes) {
        const before = this.#sql('SELECT held_messages FROM relay_devices WHERE identity = ? AND device = ?').get(identity, device);
        count += Number(before?.held_messages ?? 0) - this.#purgeMailbox(identity as Uint8Array, Number(device), now).messages;
      }
      this.#sql('DELETE FROM relay_sent WHERE expires_at <= ?').run(now);
      return count;
    });
  }

  #status(identity: Uint8Array, device: number): PrekeyStatus & { signedBytes?: Uint8Array } {
    const row = this.#sql('SELECT signed_id, signed, max_one_time_id, max_kem_id FROM relay_prekeys WHERE identity = ? AND device = ?').get(identity, device);
    const held = (kind: number) =>
      Number(
        (this.#sql('SELECT count(*) AS n FROM relay_one_time WHERE identity = ? AND device = ? AND kind = ?').get(identity, device, kind) as { n: number }).n,
      );
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
    return this.#write(() => {
      const status = this.#status(identity, device);
      const { replaceSigned } = checkUpload(status, u, this.#limits.maxOneTimeStored);
      if (replaceSigned) {
        this.#sql(
          `INSERT INTO relay_prekeys (identity, device, signed_id, signed) VALUES (?, ?, ?, ?)
           ON CONFLICT (identity, device) DO UPDATE SET signed_id = excluded.signed_id, signed = excluded.signed`,
        ).run(identity, device, replaceSigned.id, replaceSigned.bytes);
      }
      const insert = this.#sql('INSERT INTO relay_one_time (identity, device, kind, id, key) VALUES (?, ?, ?, ?, ?)');
      for (const k of u.oneTime) insert.run(identity, device, ONE_TIME_X25519, k.id, k.key);
      for (const k of u.oneTimeKem) insert.run(identity, device, ONE_TIME_KEM, k.id, k.key);
      // The high-water marks only go up: they are what refuses a claimed id uploaded again.
      if (u.oneTime.length > 0)
        this.#sql('UPDATE relay_prekeys SET max_one_time_id = ? WHERE identity = ? AND device = ?').run(u.oneTime[u.oneTime.length - 1].id, identity, device);
      if (u.oneTimeKem.length > 0)
        this.#sql('UPDATE relay_prekeys SET max_kem_id = ? WHERE identity = ? AND device = ?').run(u.oneTimeKem[u.oneTimeKem.length - 1].id, identity, device);
      const { signedBytes: _, ...after } = this.#status(identity, device);
      return after;
    });
  }

  async claimBundle(identity: Uint8Array, device: number): Promise<ClaimedBundle> {
    identityArg(identity);
    deviceArg(device);
    return this.#write(() => {
      const row = this.#sql('SELECT signed_id, signed FROM relay_prekeys WHERE identity = ? AND device = ?').get(identity, device);
      if (row === undefined) throw noPrekeys();
      const take = (kind: number) => {
        const key = this.#sql(
          `DELETE FROM relay_one_time WHERE rowid = (SELECT rowid FROM relay_one_time WHERE identity = ? AND device = ? AND kind = ? ORDER BY id LIMIT 1)
           RETURNING id, key`,
        ).get(identity, device, kind);
        return key === undefined ? undefined : { id: Number(key.id), key: bytes(key.key) };
      };
      const oneTime = take(ONE_TIME_X25519);
      const oneTimeKem = take(ONE_TIME_KEM);
      const { oneTime: leftX, oneTimeKem: leftKem } = this.#status(identity, device);
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
    const { signedBytes: _, ...status } = this.#status(identity, device);
    return status;
  }

  /** Closes the file; a second call does nothing. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    this.#db.close();
  }
}
