/**
 * The relay stores' schemas as numbered migrations, run by src/migrate.ts
 * (as the auth stores' are) and recorded in the same `keyward_schema` table:
 * one row per part, `relay` for SQLite, `relay_postgres` for PostgreSQL.
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
import { migratePostgres, migrateSqlite, type PgMigrationPool } from '../migrate';

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

/** Brings the relay's SQLite schema to the latest version (src/migrate.ts). */
export function migrateRelaySqlite(db: SqliteDatabase): number {
  return migrateSqlite(db, 'relay', relayMigrations.relay);
}

/** Brings the relay's PostgreSQL schema to the latest version (src/migrate.ts). */
export function migrateRelayPostgres(pool: PgMigrationPool): Promise<number> {
  return migratePostgres(pool, 'relay_postgres', relayMigrations.relay_postgres);
}
