/**
 * The embedded default store: SQLite in one file, through node-sqlite3-wasm
 * (SQLite compiled to WebAssembly with a Node file-system VFS, so it installs
 * from the npm registry alone, with no native build). One process at a time.
 */
import type { AuthStore } from './store';

interface Database {
  exec(sql: string): void;
  run(sql: string, params?: unknown[]): { changes: number };
  get(sql: string, params?: unknown[]): Record<string, unknown> | null;
  close(): void;
}

const schema = `
  CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, record BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS hits (key TEXT PRIMARY KEY, count INTEGER NOT NULL, until INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS nonces (key TEXT PRIMARY KEY, until INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS revoked (session_id TEXT PRIMARY KEY, until INTEGER NOT NULL);
`;

export class SqliteStore implements AuthStore {
  readonly #db: Database;
  readonly #clock: () => number;
  #writes = 0;

  /** Opens (or creates) the database file at `path`. */
  constructor(path: string, options?: { clock?: () => number }) {
    // Loaded here, not at import: only users of this store pay for the WebAssembly module.
    const { Database: Sqlite } = require('node-sqlite3-wasm') as { Database: new (path: string) => Database };
    this.#db = new Sqlite(path);
    this.#db.exec(schema);
    this.#clock = options?.clock ?? Date.now;
  }

  async getPasswordFile(username: string) {
    const row = this.#db.get('SELECT record FROM users WHERE username = ?', [username]);
    return row === null ? undefined : (row.record as Uint8Array);
  }

  async createUser(username: string, passwordFile: Uint8Array) {
    return this.#db.run('INSERT OR IGNORE INTO users (username, record) VALUES (?, ?)', [username, passwordFile]).changes === 1;
  }

  async hit(key: string, windowMs: number) {
    const now = this.#clock();
    this.#db.run(
      `INSERT INTO hits (key, count, until) VALUES (?, 1, ?)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN until <= ? THEN 1 ELSE count + 1 END,
         until = CASE WHEN until <= ? THEN excluded.until ELSE until END`,
      [key, now + windowMs, now, now],
    );
    this.#tidy(now);
    return this.#db.get('SELECT count FROM hits WHERE key = ?', [key])!.count as number;
  }

  /** Calls run one at a time on this thread, so the delete-then-insert pair is atomic. */
  add(key: string, ttlMs: number) {
    const now = this.#clock();
    this.#db.run('DELETE FROM nonces WHERE key = ? AND until <= ?', [key, now]);
    const added = this.#db.run('INSERT OR IGNORE INTO nonces (key, until) VALUES (?, ?)', [key, now + ttlMs]).changes === 1;
    this.#tidy(now);
    return added;
  }

  async revoke(sessionId: string, untilMs: number) {
    this.#db.run('INSERT OR REPLACE INTO revoked (session_id, until) VALUES (?, ?)', [sessionId, untilMs]);
  }

  async isRevoked(sessionId: string) {
    const row = this.#db.get('SELECT until FROM revoked WHERE session_id = ?', [sessionId]);
    return row !== null && (row.until as number) > this.#clock();
  }

  /** Every thousandth write clears rows that can no longer matter. */
  #tidy(now: number) {
    if (++this.#writes % 1000 !== 0) return;
    for (const table of ['hits', 'nonces', 'revoked']) this.#db.run(`DELETE FROM ${table} WHERE until <= ?`, [now]);
  }

  async close() {
    this.#db.close();
  }
}
