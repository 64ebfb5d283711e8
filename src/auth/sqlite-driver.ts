/**
 * The one SQLite surface the stores use, over whichever binding this Node
 * has: `node:sqlite` (DatabaseSync, built into Node >= 22.13 and 23.4 without
 * a flag) or else `better-sqlite3` (an optional peer dependency). Both lock
 * with the operating system's file locks, which a killed process releases:
 * nothing is left behind for a later start to trip over.
 */
import { KeywardError } from '../errors';

/** A prepared statement: the calls both bindings spell the same way. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): Record<string, unknown> | undefined;
  all(...params: unknown[]): Record<string, unknown>[];
}

/** A connection: the calls both bindings spell the same way. */
export interface SqliteDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): SqliteStatement;
  close(): unknown;
}

export type SqliteBackend = 'node:sqlite' | 'better-sqlite3';

/** Neither `node:sqlite` nor `better-sqlite3` can be loaded by this Node. */
export class SqliteUnavailableError extends KeywardError {
  constructor() {
    super(
      'SqliteStore needs SQLite: this Node has no node:sqlite (Node >= 22.13 or 23.4 has it), so install the binding with `npm install better-sqlite3`',
      'ERR_SQLITE_UNAVAILABLE',
    );
  }
}

type Opener = (path: string) => SqliteDatabase;

/** How each binding opens a file; `require` throws where the binding is missing (or, for node:sqlite, still flagged). */
const loaders: Record<SqliteBackend, () => Opener> = {
  'node:sqlite': () => {
    const { DatabaseSync } = require('node:sqlite') as { DatabaseSync: new (path: string) => SqliteDatabase };
    return (path) => new DatabaseSync(path);
  },
  'better-sqlite3': () => {
    const Database = require('better-sqlite3') as new (path: string) => SqliteDatabase;
    return (path) => new Database(path);
  },
};

let chosen: { backend: SqliteBackend; open: Opener } | undefined;

/**
 * The first binding that loads, in the order given (`node:sqlite` first: it
 * ships with Node, so it cannot be built for another Node version).
 * @internal `order` exists for the test of the missing-binding error.
 */
export function pickSqlite(order: readonly SqliteBackend[] = ['node:sqlite', 'better-sqlite3'], load = loaders): { backend: SqliteBackend; open: Opener } {
  for (const backend of order) {
    try {
      return { backend, open: load[backend]() };
    } catch {
      // not in this Node, or not installed (or built for another Node): try the next
    }
  }
  throw new SqliteUnavailableError();
}

/** Opens `path` with the binding this process uses; chosen once, on first use. */
export function openSqlite(path: string): { db: SqliteDatabase; backend: SqliteBackend } {
  chosen ??= pickSqlite();
  return { db: chosen.open(path), backend: chosen.backend };
}

/**
 * The `transaction` wrapper RateLimiterSQLite calls (better-sqlite3's
 * spelling), for a connection of either binding. Calls on one connection
 * run one at a time on this thread, so BEGIN…COMMIT cannot interleave.
 * Statements are prepared once per SQL text: RateLimiterSQLite prepares on
 * every call, and preparing costs more than running them.
 */
export function withTransaction(db: SqliteDatabase, afterCommit: () => void = () => {}) {
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
    transaction<A extends unknown[], R>(fn: (...args: A) => R) {
      return (...args: A): R => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = fn(...args);
          db.exec('COMMIT');
          afterCommit();
          return result;
        } catch (error) {
          db.exec('ROLLBACK');
          throw error;
        }
      };
    },
  };
}
