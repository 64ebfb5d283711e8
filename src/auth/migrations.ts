/**
 * The stores' schemas as numbered migrations, applied in order and recorded
 * in a `keyward_schema` table (one row per part: `users`, `ephemeral`,
 * `postgres`) by the runner in src/migrate.ts, instead of tables created in
 * a constructor. A store opens a database migrated by an older keyward by
 * applying what is missing, and refuses one migrated by a newer keyward
 * (`InvalidStateError`) rather than writing to a schema it does not know.
 *
 * Never edit a published migration; add the next one.
 */

import { type PgMigrationPool, migratePostgres as runPostgres, migrateSqlite as runSqlite } from '../migrate';
import type { SqliteDatabase } from './sqlite-driver';

/** The parts of a store's schema and their migrations, oldest first (index + 1 is the version). */
export const migrations = {
  /** SQLite, the durable file: password files. Version 1 is the table earlier builds created, so their files open as version 1. */
  users: [
    'CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, record BLOB NOT NULL)',
    // 2: the sessions a user can list and revoke.
    `CREATE TABLE sessions (session_id TEXT PRIMARY KEY, username TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
       last_seen_at INTEGER NOT NULL, address TEXT, user_agent TEXT);
     CREATE INDEX sessions_by_user ON sessions (username, expires_at)`,
  ],
  /** SQLite, the ephemeral file: used nonces and revocations (`hits` was the counters' table before rate-limiter-flexible). */
  ephemeral: [
    `DROP TABLE IF EXISTS hits;
     CREATE TABLE IF NOT EXISTS nonces (key TEXT PRIMARY KEY, until INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS revoked (session_id TEXT PRIMARY KEY, until INTEGER NOT NULL)`,
  ],
  /** PostgreSQL: password files. */
  postgres: [
    'CREATE TABLE IF NOT EXISTS keyward_users (username TEXT PRIMARY KEY, record BYTEA NOT NULL)',
    // 2: the sessions a user can list and revoke.
    `CREATE TABLE keyward_sessions (session_id TEXT PRIMARY KEY, username TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
       last_seen_at BIGINT NOT NULL, address TEXT, user_agent TEXT);
     CREATE INDEX keyward_sessions_by_user ON keyward_sessions (username, expires_at)`,
  ],
} as const;

export type SchemaPart = keyof typeof migrations;

/** Brings `part` of a SQLite database to the latest version (src/migrate.ts). */
export function migrateSqlite(db: SqliteDatabase, part: 'users' | 'ephemeral'): number {
  return runSqlite(db, part, migrations[part]);
}

/** Brings the PostgreSQL schema to the latest version (src/migrate.ts). */
export function migratePostgres(pool: PgMigrationPool): Promise<number> {
  return runPostgres(pool, 'postgres', migrations.postgres);
}
