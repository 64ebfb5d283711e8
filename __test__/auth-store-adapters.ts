/**
 * The store adapters the contract and service tests run against: memory,
 * SQLite (real files in a temporary directory) and PostgreSQL + Redis (the
 * real services `node scripts/with-services.mjs` starts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuthStore, MemoryStore, PgRedisStore, SqliteStore } from '../src/index';

/** A store; `sibling` opens a second one on the same data (another instance), where the store can be shared. */
export type Made = {
  store: AuthStore;
  sibling?: () => AuthStore;
  cleanup: () => void | Promise<void>;
};

export function services(): { postgres: string; redis: string } {
  const postgres = process.env.KEYWARD_TEST_PG;
  const redis = process.env.KEYWARD_TEST_REDIS;
  if (!postgres || !redis) throw new Error('KEYWARD_TEST_PG and KEYWARD_TEST_REDIS are unset: run the suite through `npm test`, which starts both');
  return { postgres, redis };
}

export const adapters: Record<string, (clock?: () => number) => Made> = {
  memory: (clock) => ({ store: new MemoryStore({ clock }), cleanup: () => {} }),
  sqlite: (clock) => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-sqlite-'));
    const path = join(dir, 'auth.db');
    const opened: SqliteStore[] = [new SqliteStore(path, { clock })];
    return {
      store: opened[0],
      sibling: () => {
        const another = new SqliteStore(path, { clock });
        opened.push(another);
        return another;
      },
      cleanup: async () => {
        for (const s of opened) await s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  'postgres+redis': () => {
    const options = { ...services(), prefix: `test:${randomBytes(6).toString('hex')}:` };
    const opened = [new PgRedisStore(options)];
    return {
      store: opened[0],
      sibling: () => {
        const another = new PgRedisStore(options);
        opened.push(another);
        return another;
      },
      cleanup: async () => {
        for (const s of opened) await s.close();
      },
    };
  },
};

export const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;
