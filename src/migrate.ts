/**
 * The one migration runner of every store's schema (src/auth/migrations.ts,
 * src/relay/migrations.ts hold the steps). A part's version is recorded in a
 * `keyward_schema` table, one row per part; each step commits with its
 * record, so a crash leaves the schema at one version or the next; a schema
 * a newer keyward wrote is refused (`InvalidStateError`) rather than written
 * to.
 */

import type { SqliteDatabase } from './auth/sqlite-driver';
import { InvalidStateError } from './errors';

const SCHEMA_TABLE = 'CREATE TABLE IF NOT EXISTS keyward_schema (part TEXT PRIMARY KEY, version INTEGER NOT NULL)';
/** The statement that records a part's version, with the driver's two placeholders. */
const record = (part: string, version: string) =>
  `INSERT INTO keyward_schema (part, version) VALUES (${part}, ${version}) ON CONFLICT (part) DO UPDATE SET version = excluded.version`;

/**
 * The advisory lock every PostgreSQL migration takes, whichever store runs
 * it: the stores share `keyward_schema`, and two concurrent `CREATE TABLE IF
 * NOT EXISTS` of one table can fail in PostgreSQL.
 */
const PG_MIGRATION_LOCK = 7210611;

function newer(part: string, found: number, known: number): InvalidStateError {
  return new InvalidStateError(`the ${part} schema is at version ${found}, written by a newer keyward; this one knows up to ${known}: upgrade keyward`);
}

/** Brings `part` of a SQLite database to its latest version (`steps.length`), each step in its own transaction. */
export function migrateSqlite(db: SqliteDatabase, part: string, steps: readonly string[]): number {
  db.exec(SCHEMA_TABLE);
  const read = () => (db.prepare('SELECT version FROM keyward_schema WHERE part = ?').get(part)?.version as number | undefined) ?? 0;
  let version = read();
  if (version > steps.length) throw newer(part, version, steps.length);
  while (version < steps.length) {
    // IMMEDIATE: another process opening the same file waits (busy timeout), then sees the new version.
    db.exec('BEGIN IMMEDIATE');
    try {
      version = read();
      if (version > steps.length) throw newer(part, version, steps.length);
      if (version < steps.length) {
        db.exec(steps[version]);
        version += 1;
        db.prepare(record('?', '?')).run(part, version);
      }
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
  return version;
}

type PgQuery = (sql: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;

/** What the runner uses of a `pg` Pool: a client checked out, so a transaction's statements share one connection. */
export interface PgMigrationPool {
  connect(): Promise<{ query: PgQuery; release(): void }>;
}

/**
 * Brings `part` of a PostgreSQL database to its latest version in one
 * transaction, under the advisory lock, so that instances (and CI jobs
 * sharing one database) starting together take turns: the second finds the
 * first one's version and does nothing.
 */
export async function migratePostgres(pool: PgMigrationPool, part: string, steps: readonly string[]): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [PG_MIGRATION_LOCK]);
      await client.query(SCHEMA_TABLE);
      const { rows } = await client.query('SELECT version FROM keyward_schema WHERE part = $1', [part]);
      let version = rows.length === 0 ? 0 : Number(rows[0].version);
      if (version > steps.length) throw newer(part, version, steps.length);
      for (; version < steps.length; version++) await client.query(steps[version]);
      await client.query(record('$1', '$2'), [part, version]);
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
