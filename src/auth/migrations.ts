/**
 * The stores' schemas as numbered migrations, applied in order and recorded
 * in a `keyward_schema` table (one row per part: `users`, `ephemeral`,
 * `postgres`), instead of tables created in a constructor. A store opens a
 * database migrated by an older keyward by applying what is missing, and
 * refuses one migrated by a newer keyward (`InvalidStateError`) rather than
 * writing to a schema it does not know. Each migration and its record commit
 * together: a crash leaves the schema at one version or the next.
 *
 * Never edit a published migration; add the next one.
 */

import { InvalidStateError } from '../errors';
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

const SCHEMA_TABLE = 'CREATE TABLE IF NOT EXISTS keyward_schema (part TEXT PRIMARY KEY, version INTEGER NOT NULL)';

function newer(part: SchemaPart, found: number): InvalidStateError {
  return new InvalidStateError(
    `the ${part} schema is at version ${found}, written by a newer keyward; this one knows up to ${migrations[part].length}: upgrade keyward`,
  );
}

/** Brings `part` of a SQLite database to the latest version, each step in its own transaction. */
export function migrateSqlite(db: SqliteDatabase, part: 'users' | 'ephemeral'): number {
  db.exec(SCHEMA_TABLE);
  const steps = migrations[part];
  const read = () => (db.prepare('SELECT version FROM keyward_schema WHERE part = ?').get(part)?.version as number | undefined) ?? 0;
  let version = read();
  if (version > steps.length) throw newer(part, version);
  while (version < steps.length) {
    // IMMEDIATE: another process opening the same file waits (busy timeout), then sees the new version.
    db.exec('BEGIN IMMEDIATE');
    try {
      version = read();
      if (version < steps.length) {
        db.exec(steps[version]);
        version += 1;
        db.prepare('INSERT INTO keyward_schema (part, version) VALUES (?, ?) ON CONFLICT (part) DO UPDATE SET version = excluded.version').run(part, version);
      }
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
  return version;
}

interface PgQuery {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** A client checked out of a pool, so that a transaction's statements share one connection. */
interface PgPoolLike extends PgQuery {
  connect(): Promise<PgQuery & { release(): void }>;
}

/**
 * Brings the PostgreSQL schema to the latest version in one transaction,
 * under an advisory lock so that instances starting together take turns.
 */
export async function migratePostgres(pool: PgPoolLike): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(7210611)');
      await client.query(SCHEMA_TABLE);
      const { rows } = await client.query('SELECT version FROM keyward_schema WHERE part = $1', ['postgres']);
      let version = rows.length === 0 ? 0 : Number(rows[0].version);
      const steps = migrations.postgres;
      if (version > steps.length) throw newer('postgres', version);
      for (; version < steps.length; version++) await client.query(steps[version]);
      await client.query('INSERT INTO keyward_schema (part, version) VALUES ($1, $2) ON CONFLICT (part) DO UPDATE SET version = excluded.version', [
        'postgres',
        version,
      ]);
      await client.query('COMMIT');
      return version;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  } finally {
    client.release();
  }
}
