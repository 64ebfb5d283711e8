/**
 * SqliteStore's binding and file settings: node:sqlite where this Node has
 * it, else better-sqlite3; WAL on both files; close() twice is fine; a clear error when no binding loads.
 * better-sqlite3 is only ever required after checking that it loads (under
 * Node 22 and 24 the installed build, made for Node 20, does not).
 */

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { pickSqlite, type SqliteDatabase } from '../src/auth/sqlite-driver';
import { SqliteStore, SqliteUnavailableError } from '../src/index';

/** Whether the binding works here: better-sqlite3's native part loads on first use, so open one. */
function loads(name: string): boolean {
  try {
    const mod = require(name);
    if (name === 'better-sqlite3') new mod(':memory:').close();
    return true;
  } catch {
    return false;
  }
}

function scratch(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-sqlite-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('node:sqlite when this Node has it, else better-sqlite3', (t) => {
  const dir = scratch(t);
  const store = new SqliteStore(join(dir, 'auth.db'));
  t.teardown(() => store.close());
  t.is(store.backend, loads('node:sqlite') ? 'node:sqlite' : 'better-sqlite3');
});

test('both files in WAL mode; close() twice is fine, a closed store says so, nothing is left to delete', async (t) => {
  const dir = scratch(t);
  const path = join(dir, 'auth.db');
  const store = new SqliteStore(path);
  t.true(await store.createUser('ann', new Uint8Array([1])));
  t.true(store.add('n', 60_000));
  await store.close();
  await store.close();
  await t.throwsAsync(store.getPasswordFile('ann'), { code: 'ERR_INVALID_STATE' });
  t.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.lock')),
    [],
  );

  // Read back with the same binding the store chose.
  const { open } = pickSqlite();
  for (const file of [path, `${path}-ephemeral`]) {
    const db = open(file);
    t.is(db.prepare('PRAGMA journal_mode').get()!.journal_mode, 'wal', file);
    db.close();
  }
  const again = new SqliteStore(path);
  t.teardown(() => again.close());
  t.deepEqual(Array.from((await again.getPasswordFile('ann'))!), [1]);
  t.false(again.add('n', 60_000), 'the nonce outlived the close');
});

test('no binding at all: a typed error that says what to install', (t) => {
  const missing = () => {
    throw new Error('Cannot find module');
  };
  const error = t.throws(() => pickSqlite(['node:sqlite', 'better-sqlite3'], { 'node:sqlite': missing, 'better-sqlite3': missing }), {
    instanceOf: SqliteUnavailableError,
  });
  t.is(error!.code, 'ERR_SQLITE_UNAVAILABLE');
  t.regex(error!.message, /npm install better-sqlite3/);
});

test('an open connection of the caller is used as is and left open', async (t) => {
  const dir = scratch(t);
  // better-sqlite3 where it loads (Node 20 here); node:sqlite's DatabaseSync otherwise: both are connections the store takes.
  const db: SqliteDatabase = loads('better-sqlite3')
    ? new (require('better-sqlite3') as new (path: string) => SqliteDatabase)(join(dir, 'mine.db'))
    : new (require('node:sqlite') as { DatabaseSync: new (path: string) => SqliteDatabase }).DatabaseSync(join(dir, 'mine.db'));
  const store = new SqliteStore(db);
  t.is(store.backend, 'external');
  t.true(await store.createUser('bo', new Uint8Array([5])));
  const limiter = store.limiter({ name: 'mine', points: 1, duration: 60 });
  await limiter.consume('k');
  const refused = await limiter.consume('k').then(
    () => undefined,
    (res: { consumedPoints: number }) => res,
  );
  t.is(refused?.consumedPoints, 2);
  await store.close();
  t.deepEqual(Array.from(db.prepare('SELECT record FROM users WHERE username = ?').get('bo')!.record as Uint8Array), [5]);
  db.close();
});
