/**
 * The relay stores' schemas as numbered migrations, the pattern of
 * src/auth/migrations.ts: recorded in the same `keyward_schema` table (one
 * row per part: `relay` for SQLite, `relay_postgres` for PostgreSQL), each
 * step committed with its record, a schema from a newer keyward refused
 * (`InvalidStateError`). That runner is bound to the auth parts, so the
 * relay has its own, with the same behaviour.
 *
 * Never edit a published migration; add the next one.
 *
 * Tables: `*_devices` is one row per registered device and is its mailbox's
 * head (the next message id, and the counts the quota checks, kept under the
 * row's lock so they are exact); `*_messages` the messages; `*_sent` the
 * idempotency keys, kept for the TTL after an ack; `*_prekeys` a device's
 * signed section and the highest one-time ids ever accepted (which never
 * go down, so a claimed id is never accepted again); `*_one_time` the
 * one-time prekeys (kind 0 X25519, 1 ML-KEM).
 */

import type { SqliteDatabase } from '../auth/sqlite-driver';
import { InvalidStateError } from '../errors';

/** The relay's schema parts and their migrations, oldest first (index + 1 is the version). */
export const relayMigrations = {
  relay: [
    `CREATE TABLE relay_devices (identity BLOB NOT NULL, device INTEGER NOT NULL, registered_at INTEGER NOT NULL,
       next_id INTEGER NOT NULL DEFAULT 1, held_messages INTEGER NOT NULL DEFAULT 0, held_bytes INTEGER NOT NULL DEFAULT 0,
       PRIMARY KEY (identity, device)) WITHOUT ROWID;
     CREATE TABLE relay_messages (identity BLOB NOT NULL, device INTEGER NOT NULL, id INTEGER NOT NULL, sender BLOB NOT NULL,
       sender_device INTEGER NOT NULL, received_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, size INTEGER NOT NULL, body BLOB NOT NULL,
       PRIMARY KEY (identity, device, id));
     CREATE INDEX relay_messages_expiry ON relay_messages (expires_at);
     CREATE TABLE relay_sent (identity BLOB NOT NULL, device INTEGER NOT NULL, sender BLOB NOT NULL, sender_device INTEGER NOT NULL,
       client_message_id BLOB NOT NULL, message_id INTEGER NOT NULL, stored_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
       PRIMARY KEY (identity, device, sender, sender_device, client_message_id)) WITHOUT ROWID;
     CREATE INDEX relay_sent_expiry ON relay_sent (expires_at);
     CREATE TABLE relay_prekeys (identity BLOB NOT NULL, device INTEGER NOT NULL, signed_id INTEGER NOT NULL, signed BLOB NOT NULL,
       max_one_time_id INTEGER NOT NULL DEFAULT 0, max_kem_id INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (identity, device)) WITHOUT ROWID;
     CREATE TABLE relay_one_time (identity BLOB NOT NULL, device INTEGER NOT NULL, kind INTEGER NOT NULL, id INTEGER NOT NULL, key BLOB NOT NULL,
       PRIMARY KEY (identity, device, kind, id))`,
  ],
  relay_postgres: [
    `CREATE TABLE keyward_relay_devices (identity BYTEA NOT NULL, device BIGINT NOT NULL, registered_at BIGINT NOT NULL,
       next_id BIGINT NOT NULL DEFAULT 1, held_messages BIGINT NOT NULL DEFAULT 0, held_bytes BIGINT NOT NULL DEFAULT 0,
       PRIMARY KEY (identity, device));
     CREATE TABLE keyward_relay_messages (identity BYTEA NOT NULL, device BIGINT NOT NULL, id BIGINT NOT NULL, sender BYTEA NOT NULL,
       sender_device BIGINT NOT NULL, received_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, size BIGINT NOT NULL, body BYTEA NOT NULL,
       PRIMARY KEY (identity, device, id));
     CREATE INDEX keyward_relay_messages_expiry ON keyward_relay_messages (expires_at);
     CREATE TABLE keyward_relay_sent (identity BYTEA NOT NULL, device BIGINT NOT NULL, sender BYTEA NOT NULL, sender_device BIGINT NOT NULL,
       client_message_id BYTEA NOT NULL, message_id BIGINT NOT NULL, stored_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
       PRIMARY KEY (identity, device, sender, sender_device, client_message_id));
     CREATE INDEX keyward_relay_sent_expiry ON keyward_relay_sent (expires_at);
     CREATE TABLE keyward_relay_prekeys (identity BYTEA NOT NULL, device BIGINT NOT NULL, signed_id BIGINT NOT NULL, signed BYTEA NOT NULL,
       max_one_time_id BIGINT NOT NULL DEFAULT 0, max_kem_id BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (identity, device));
     CREATE TABLE keyward_relay_one_time (identity BYTEA NOT NULL, device BIGINT NOT NULL, kind SMALLINT NOT NULL, id BIGINT NOT NULL, key BYTEA NOT NULL,
       PRIMARY KEY (identity, device, kind, id))`,
  ],
} as const;

export type RelaySchemaPart = keyof typeof relayMigrations;

const SCHEMA_TABLE = 'CREATE TABLE IF NOT EXISTS keyward_schema (part TEXT PRIMARY KEY, version INTEGER NOT NULL)';

/**
 * The advisory lock src/auth/migrations.ts takes: the same key, so an auth
 * store and a relay store starting together on one database also take turns
 * (both create `keyward_schema`, and two concurrent `CREATE TABLE IF NOT
 * EXISTS` of one table can fail in PostgreSQL).
 */
const PG_MIGRATION_LOCK = 7210611;

function newer(part: RelaySchemaPart, found: number): InvalidStateError {
  return new InvalidStateError(
    `the ${part} schema is at version ${found}, written by a newer keyward; this one knows up to ${relayMigrations[part].length}: upgrade keyward`,
  );
}

/** Brings the relay's SQLite schema to the latest version, each step in its own transaction. */
export function migrateRelaySqlite(db: SqliteDatabase): number {
  const part = 'relay';
  db.exec(SCHEMA_TABLE);
  const steps = relayMigrations[part];
  const read = () => (db.prepare('SELECT version FROM keyward_schema WHERE part = ?').get(part)?.version as number | undefined) ?? 0;
  let version = read();
  if (version > steps.length) throw newer(part, version);
  while (version < steps.length) {
    // IMMEDIATE: another process opening the same file waits (busy timeout), then sees the new version.
    db.exec('BEGIN IMMEDIATE');
    try {
      version = read();
      if (version > steps.length) throw newer(part, version);
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

/** What the migration uses of a `pg` Pool. */
export interface PgMigrationPool {
  connect(): Promise<{ query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>; release(): void }>;
}

/**
 * Brings the relay's PostgreSQL schema to the latest version in one
 * transaction, under the advisory lock, so that instances (and CI jobs
 * sharing one database) starting together take turns: the second finds the
 * first one's version and does nothing.
 */
export async function migrateRelayPostgres(pool: PgMigrationPool): Promise<number> {
  const part = 'relay_postgres';
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [PG_MIGRATION_LOCK]);
      await client.query(SCHEMA_TABLE);
      const { rows } = await client.query('SELECT version FROM keyward_schema WHERE part = $1', [part]);
      let version = rows.length === 0 ? 0 : Number(rows[0].version);
      const steps = relayMigrations[part];
      if (version > steps.length) throw newer(part, version);
      for (; version < steps.length; version++) await client.query(steps[version]);
      await client.query('INSERT INTO keyward_schema (part, version) VALUES ($1, $2) ON CONFLICT (part) DO UPDATE SET version = excluded.version', [
        part,
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
