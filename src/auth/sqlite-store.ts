/**
 * The embedded default store: SQLite through `node:sqlite` where this Node
 * has it, else `better-sqlite3` (src/auth/sqlite-driver.ts). Locking is the
 * operating system's, so a process killed with SIGKILL leaves nothing that
 * stops the next start: SQLite rolls the write-ahead log forward or back on
 * open. Several processes may share the files; writers wait for each other
 * (busy timeout) instead of failing.
 *
 * Two files, both in WAL mode:
 * - `path`: the password files, `synchronous = FULL`: the log is fsynced
 *   before a commit returns, so a registration that was answered survives a
 *   crash of the process and of the machine.
 * - `path-ephemeral`: used nonces, revocations and rate counters,
 *   `synchronous = NORMAL`: in WAL mode a commit is in the OS's hands when
 *   it returns (it survives the process being killed) but is fsynced only at
 *   checkpoints, so a power loss may forget the last moments of them, never
 *   corrupt the file. Forgetting costs little: a nonce is refused anyway once
 *   its timestamp leaves the window (30 s), a counter restarts, a revoked
 *   session (the client also forgets its key at logout) lasts to its expiry.
 *   An fsync per login attempt and per signed request would cost more
 *   (about 15× per write here) than that is worth.
 */
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import { InvalidStateError } from '../errors';
import { migrateSqlite } from './migrations';
import { openSqlite, type SqliteBackend, type SqliteDatabase, type SqliteStatement, withTransaction } from './sqlite-driver';
import { type AuthStore, keyArg, type LimiterOptions, limiterArg, msArg, recordArg, type SessionRecord, sessionRow } from './store';

const BUSY_TIMEOUT_MS = 5000;

const durable = `
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = FULL;
  PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS};
`;

const ephemeral = `
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = NORMAL;
  PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS};
`;

/** The table RateLimiterSQLite expects (its own schema, created here so it need not create it asynchronously). */
const limiterTable = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER)`;

/** Options of `SqliteStore`. */
export interface SqliteStoreOptions {
  /** Decides nonce and revocation expiry (ms since the epoch); `Date.now` by default. */
  clock?: () => number;
}

/** An `AuthStore` in SQLite files that several processes on one machine may share. */
export class SqliteStore implements AuthStore {
  /** The binding in use; `'external'` for a connection the caller opened. */
  readonly backend: SqliteBackend | 'external';
  readonly #users: SqliteDatabase;
  readonly #eph: SqliteDatabase;
  readonly #owned: boolean;
  readonly #eph2: ReturnType<typeof withTransaction>;
  readonly #clock: () => number;
  readonly #limitTables: string[] = [];
  #writes = 0;
  #closed = false;

  /**
   * Opens (or creates) the database file at `path`, and `path` + `-ephemeral`
   * beside it. Or takes an open connection (a `better-sqlite3` Database, or a
   * `node:sqlite` DatabaseSync) and keeps every table in it: its journal mode
   * and synchronous setting stay the caller's, and `close()` leaves it open.
   * Throws `SqliteUnavailableError` when this Node has neither binding, and
   * `TypeError` when `path` is neither a string nor a connection. The schema
   * is migrated on open (src/auth/migrations.ts); a database a newer keyward
   * migrated is refused with `InvalidStateError`.
   */
  constructor(path: string | SqliteDatabase, options?: SqliteStoreOptions) {
    if (typeof path === 'string') {
      const main = openSqlite(path);
      this.backend = main.backend;
      this.#users = main.db;
      try {
        this.#users.exec(durable);
        migrateSqlite(this.#users, 'users');
        this.#eph = openSqlite(`${path}-ephemeral`).db;
      } catch (error) {
        this.#users.close();
        throw error;
      }
      this.#owned = true;
    } else {
      if (typeof path?.prepare !== 'function' || typeof path.exec !== 'function') {
        throw new TypeError('SqliteStore takes a file path or an open better-sqlite3 Database');
      }
      this.backend = 'external';
      this.#users = this.#eph = path;
      this.#owned = false;
      migrateSqlite(this.#users, 'users');
    }
    try {
      // A caller's connection keeps its own settings.
      if (this.#owned) this.#eph.exec(ephemeral);
      migrateSqlite(this.#eph, 'ephemeral');
    } catch (error) {
      this.#closeOwned();
      throw error;
    }
    this.#eph2 = withTransaction(this.#eph, () => this.#tidy(this.#clock()));
    this.#clock = options?.clock ?? Date.now;
  }

  #open() {
    if (this.#closed) throw new InvalidStateError('this SqliteStore is closed');
  }

  #sql(db: SqliteDatabase, sql: string): SqliteStatement {
    this.#open();
    return db === this.#eph ? this.#eph2.prepare(sql) : (this.#usersStatements.get(sql) ?? this.#prepareUsers(sql));
  }

  readonly #usersStatements = new Map<string, SqliteStatement>();
  #prepareUsers(sql: string): SqliteStatement {
    const statement = this.#users.prepare(sql);
    this.#usersStatements.set(sql, statement);
    return statement;
  }

  async getPasswordFile(username: string) {
    const row = this.#sql(this.#users, 'SELECT record FROM users WHERE username = ?').get(keyArg(username, 'username'));
    return row === undefined ? undefined : new Uint8Array(row.record as Uint8Array);
  }

  async createUser(username: string, passwordFile: Uint8Array) {
    keyArg(username, 'username');
    recordArg(passwordFile);
    return Number(this.#sql(this.#users, 'INSERT OR IGNORE INTO users (username, record) VALUES (?, ?)').run(username, passwordFile).changes) === 1;
  }

  async setPasswordFile(username: string, passwordFile: Uint8Array) {
    keyArg(username, 'username');
    recordArg(passwordFile);
    return Number(this.#sql(this.#users, 'UPDATE users SET record = ? WHERE username = ?').run(passwordFile, username).changes) === 1;
  }

  async recordSession(s: SessionRecord) {
    keyArg(s?.sessionId, 'sessionId');
    this.#sql(this.#users, 'INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      s.sessionId,
      keyArg(s.username, 'username'),
      msArg(s.createdAt, 'createdAt'),
      msArg(s.expiresAt, 'expiresAt'),
      msArg(s.lastSeenAt, 'lastSeenAt'),
      s.address ?? null,
      s.userAgent ?? null,
    );
  }

  async listSessions(username: string, nowMs: number) {
    keyArg(username, 'username');
    const rows = this.#sql(this.#users, 'SELECT * FROM sessions WHERE username = ? AND expires_at > ? ORDER BY created_at DESC').all(
      username,
      msArg(nowMs, 'nowMs'),
    );
    return rows.map(sessionRow);
  }

  async touchSession(sessionId: string, atMs: number) {
    this.#sql(this.#users, 'UPDATE sessions SET last_seen_at = ? WHERE session_id = ?').run(msArg(atMs, 'atMs'), keyArg(sessionId, 'sessionId'));
  }

  async extendSession(sessionId: string, username: string, expiresAt: number, atMs: number) {
    const changed = this.#sql(this.#users, 'UPDATE sessions SET expires_at = ?, last_seen_at = ? WHERE session_id = ? AND username = ?').run(
      msArg(expiresAt, 'expiresAt'),
      msArg(atMs, 'atMs'),
      keyArg(sessionId, 'sessionId'),
      keyArg(username, 'username'),
    ).changes;
    return Number(changed) === 1;
  }

  async deleteUser(username: string) {
    keyArg(username, 'username');
    this.#sql(this.#users, 'DELETE FROM sessions WHERE username = ?').run(username);
    return Number(this.#sql(this.#users, 'DELETE FROM users WHERE username = ?').run(username).changes) === 1;
  }

  /**
   * Counters in the ephemeral file through rate-limiter-flexible's own SQLite
   * limiter, so processes sharing the files share them. Its expiries follow
   * the real clock, not `options.clock`.
   */
  limiter(options: LimiterOptions) {
    limiterArg(options);
    const table = `limit_${options.name}`;
    this.#open();
    this.#eph.exec(limiterTable(table));
    this.#limitTables.push(table);
    return new RateLimiterSQLite({
      storeClient: this.#eph2,
      storeType: 'better-sqlite3',
      tableName: table,
      tableCreated: true,
      points: options.points,
      duration: options.duration,
    });
  }

  /** Calls run one at a time on this thread; across processes INSERT OR IGNORE is the atomic part. */
  add(key: string, ttlMs: number) {
    keyArg(key, 'key');
    msArg(ttlMs, 'ttlMs');
    const now = this.#clock();
    this.#sql(this.#eph, 'DELETE FROM nonces WHERE key = ? AND until <= ?').run(key, now);
    const added = Number(this.#sql(this.#eph, 'INSERT OR IGNORE INTO nonces (key, until) VALUES (?, ?)').run(key, now + ttlMs).changes) === 1;
    this.#tidy(now);
    return added;
  }

  async revoke(sessionId: string, untilMs: number) {
    keyArg(sessionId, 'sessionId');
    msArg(untilMs, 'untilMs');
    this.#sql(this.#eph, 'INSERT OR REPLACE INTO revoked (session_id, until) VALUES (?, ?)').run(sessionId, untilMs);
    this.#sql(this.#users, 'DELETE FROM sessions WHERE session_id = ?').run(sessionId);
  }

  /** Answers synchronously: the verifier then skips a turn of the event loop. */
  isRevoked(sessionId: string) {
    keyArg(sessionId, 'sessionId');
    const row = this.#sql(this.#eph, 'SELECT until FROM revoked WHERE session_id = ?').get(sessionId);
    return row !== undefined && Number(row.until) > this.#clock();
  }

  /** Every thousandth write clears rows that can no longer matter. */
  #tidy(now: number) {
    if (++this.#writes % 1000 !== 0 || this.#closed) return;
    for (const table of ['nonces', 'revoked']) this.#sql(this.#eph, `DELETE FROM ${table} WHERE until <= ?`).run(now);
    // rate-limiter-flexible stores expiries in real milliseconds.
    for (const table of this.#limitTables) this.#sql(this.#eph, `DELETE FROM ${table} WHERE expire < ?`).run(Date.now());
  }

  #closeOwned() {
    if (!this.#owned) return;
    for (const db of new Set([this.#users, this.#eph])) {
      try {
        db?.close();
      } catch {
        // already closed
      }
    }
  }

  /** Closes the files this store opened; a second call does nothing. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#usersStatements.clear();
    this.#closeOwned();
  }
}
