/**
 * Versioned schemas (src/auth/migrations.ts) on real SQLite files and a real
 * PostgreSQL: a fresh store records its version, a database an earlier build
 * made opens with its users, a database a newer keyward migrated is refused
 * and left as it was; PgRedisStore takes the application's own pg Pool and
 * ioredis client and leaves them open.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import IORedis from 'ioredis';
import { Pool } from 'pg';
import { migrations } from '../src/auth/migrations';
import { openSqlite } from '../src/auth/sqlite-driver';
import { InvalidStateError, PgRedisStore, SqliteStore } from '../src/index';
import { services } from './auth-store-adapters';

function scratch(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-mig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'auth.db');
}

/** The SQLite binding the store itself uses on this Node (node:sqlite, else better-sqlite3). */
const open = (path: string) => openSqlite(path).db;

const versions = (path: string) => {
  const db = open(path);
  try {
    return Object.fromEntries(
      (db.prepare('SELECT part, version FROM keyward_schema').all() as { part: string; version: number }[]).map((r) => [r.part, r.version]),
    );
  } finally {
    db.close();
  }
};

test('SQLite: a fresh store records each part at the latest version; reopening keeps users and versions', async (t) => {
  const path = scratch(t);
  const store = new SqliteStore(path);
  t.true(await store.createUser('ann', new Uint8Array([1])));
  await store.close();
  t.deepEqual(versions(path), { users: migrations.users.length });
  t.deepEqual(versions(`${path}-ephemeral`), { ephemeral: migrations.ephemeral.length });
  const again = new SqliteStore(path);
  t.deepEqual(Array.from((await again.getPasswordFile('ann'))!), [1]);
  await again.close();
  t.deepEqual(versions(path), { users: migrations.users.length });
});

test('SQLite: files an earlier build made (tables, no schema record) open with their users and are recorded', async (t) => {
  const path = scratch(t);
  const old = open(path);
  old.exec('CREATE TABLE users (username TEXT PRIMARY KEY, record BLOB NOT NULL)');
  old.prepare('INSERT INTO users VALUES (?, ?)').run('bea', new Uint8Array([7, 7]));
  old.close();
  const eph = open(`${path}-ephemeral`);
  eph.exec('CREATE TABLE hits (key TEXT PRIMARY KEY, n INTEGER)');
  eph.close();
  const store = new SqliteStore(path);
  t.deepEqual(Array.from((await store.getPasswordFile('bea'))!), [7, 7]);
  t.true(await store.add('nonce', 1000));
  // The earlier build's file is brought up to date: its users stay, session records can be kept.
  await store.recordSession({ sessionId: 's', username: 'bea', createdAt: 1, expiresAt: Date.now() + 1000, lastSeenAt: 1 });
  t.is((await store.listSessions('bea', Date.now())).length, 1);
  await store.close();
  t.deepEqual(versions(path), { users: migrations.users.length });
  const tables = open(`${path}-ephemeral`);
  t.deepEqual(
    (tables.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name),
    ['keyward_schema', 'nonces', 'revoked'],
  );
  tables.close();
});

test('SQLite: a file a newer keyward migrated is refused with InvalidStateError and left as it was', async (t) => {
  const path = scratch(t);
  await new SqliteStore(path).close();
  const db = open(path);
  db.prepare("UPDATE keyward_schema SET version = 99 WHERE part = 'users'").run();
  db.close();
  const error = t.throws(() => new SqliteStore(path), { instanceOf: InvalidStateError });
  t.regex(error!.message, new RegExp(`users schema is at version 99, written by a newer keyward; this one knows up to ${migrations.users.length}`));
  t.deepEqual(versions(path), { users: 99 });
});

test('SQLite: a caller-owned connection gets both parts recorded in it and stays open', async (t) => {
  const db = open(':memory:');
  const store = new SqliteStore(db);
  t.true(await store.createUser('cy', new Uint8Array([3])));
  await store.close();
  t.deepEqual(
    db
      .prepare('SELECT part, version FROM keyward_schema ORDER BY part')
      .all()
      .map((row) => ({ ...row })),
    [
      { part: 'ephemeral', version: migrations.ephemeral.length },
      { part: 'users', version: migrations.users.length },
    ],
  );
  db.close();
});

/** A pg Pool on a schema of its own, so that this test's versions touch no other test's store. */
async function isolatedPool(t: import('ava').ExecutionContext): Promise<Pool> {
  const schema = `kw_mig_${randomBytes(4).toString('hex')}`;
  const admin = new Pool({ connectionString: services().postgres });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = new Pool({ connectionString: services().postgres, options: `-c search_path=${schema}` });
  t.teardown(async () => {
    await pool.end();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  return pool;
}

test('postgres+redis: the application’s own Pool and ioredis client are used, recorded at the latest version, and left open', async (t) => {
  const pool = await isolatedPool(t);
  const redis = new IORedis(services().redis);
  t.teardown(() => redis.quit());
  const store = new PgRedisStore({ postgres: pool, redis, prefix: `test:${randomBytes(6).toString('hex')}:` });
  t.true(await store.createUser('dee', new Uint8Array([4])));
  t.true(await store.add('n1', 1000));
  await store.close();
  // Still the application's: both answer after the store closed.
  t.deepEqual((await pool.query('SELECT part, version FROM keyward_schema')).rows, [{ part: 'postgres', version: migrations.postgres.length }]);
  t.is(await redis.ping(), 'PONG');
  // A second store on the same schema finds it current and reads the user.
  const second = new PgRedisStore({ postgres: pool, redis });
  t.deepEqual(Array.from((await second.getPasswordFile('dee'))!), [4]);
  await second.close();
});

test('postgres+redis: a schema a newer keyward migrated is refused with InvalidStateError and left as it was', async (t) => {
  const pool = await isolatedPool(t);
  const redis = new IORedis(services().redis);
  t.teardown(() => redis.quit());
  await new PgRedisStore({ postgres: pool, redis }).ready();
  await pool.query("UPDATE keyward_schema SET version = 99 WHERE part = 'postgres'");
  const store = new PgRedisStore({ postgres: pool, redis });
  await t.throwsAsync(store.getPasswordFile('x'), { instanceOf: InvalidStateError, message: /postgres schema is at version 99/ });
  t.deepEqual((await pool.query('SELECT version FROM keyward_schema')).rows, [{ version: 99 }]);
});

test('PgRedisStore refuses what is neither a connection string nor a client', (t) => {
  t.throws(() => new PgRedisStore({ postgres: {} as never, redis: 'redis://x' }), { message: /options.postgres must be a connection string or a pg Pool/ });
  t.throws(() => new PgRedisStore({ postgres: 'postgres://x', redis: 42 as never }), { message: /options.redis must be a Redis URL or an ioredis client/ });
});
