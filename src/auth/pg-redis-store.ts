/**
 * The store for several instances: password files in PostgreSQL (`pg`),
 * rate counters, used nonces and revocations in Redis (`ioredis`), where
 * expiry is Redis's own and every check-and-set is a single atomic command
 * (rate-limiter-flexible's RateLimiterRedis, on the same client, for the
 * counters: every instance counts against the same keys).
 * Both clients are optional peer dependencies, loaded on use.
 */
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { InvalidArgumentError } from '../errors';
import type { AuthStore, LimiterOptions } from './store';

interface Pool {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
  end(): Promise<void>;
}

interface Redis {
  set(key: string, value: string, ...args: (string | number)[]): Promise<'OK' | null>;
  exists(key: string): Promise<number>;
  quit(): Promise<unknown>;
}

/** Connection settings of `PgRedisStore`. */
export interface PgRedisStoreOptions {
  /** A PostgreSQL connection string. */
  postgres: string;
  /** A Redis URL. */
  redis: string;
  /** Prefix of every Redis key; `keyward:` by default. */
  prefix?: string;
}

/** An `AuthStore` for several instances: password files in PostgreSQL, everything that expires in Redis. */
export class PgRedisStore implements AuthStore {
  readonly #pg: Pool;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ready: Promise<unknown>;

  /** Connects lazily; needs the optional peers `pg` and `ioredis` installed. */
  constructor(options: PgRedisStoreOptions) {
    // Checked before anything connects: a wrong type would otherwise surface inside pg or ioredis.
    if (typeof options?.postgres !== 'string' || typeof options.redis !== 'string') {
      throw new InvalidArgumentError('options.postgres and options.redis must be connection strings');
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string') throw new InvalidArgumentError('options.prefix must be a string');
    const { Pool: PgPool } = require('pg') as { Pool: new (config: { connectionString: string; max?: number }) => Pool };
    const IORedis = require('ioredis') as new (url: string, options?: object) => Redis;
    this.#pg = new PgPool({ connectionString: options.postgres, max: 10 });
    this.#redis = new IORedis(options.redis, { maxRetriesPerRequest: 3 });
    this.#prefix = options.prefix ?? 'keyward:';
    // Instances starting together would race on CREATE TABLE IF NOT EXISTS; a transaction-scoped
    // advisory lock makes them take turns.
    this.#ready = this.#pg.query(
      `BEGIN; SELECT pg_advisory_xact_lock(7210611);
       CREATE TABLE IF NOT EXISTS keyward_users (username TEXT PRIMARY KEY, record BYTEA NOT NULL); COMMIT;`,
    );
    // Reported by the first call that needs the table, not as an unhandled rejection.
    this.#ready.catch(() => {});
  }

  /** Resolves once the table exists; every PostgreSQL call waits for it anyway. */
  ready(): Promise<unknown> {
    return this.#ready;
  }

  async getPasswordFile(username: string) {
    await this.#ready;
    const { rows } = await this.#pg.query('SELECT record FROM keyward_users WHERE username = $1', [username]);
    return rows.length === 0 ? undefined : new Uint8Array(rows[0].record as Buffer);
  }

  async createUser(username: string, passwordFile: Uint8Array) {
    await this.#ready;
    const result = await this.#pg.query('INSERT INTO keyward_users (username, record) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      username,
      Buffer.from(passwordFile),
    ]);
    return result.rowCount === 1;
  }

  async setPasswordFile(username: string, passwordFile: Uint8Array) {
    await this.#ready;
    const result = await this.#pg.query('UPDATE keyward_users SET record = $2 WHERE username = $1', [username, Buffer.from(passwordFile)]);
    return result.rowCount === 1;
  }

  limiter(options: LimiterOptions) {
    return new RateLimiterRedis({
      storeClient: this.#redis,
      keyPrefix: `${this.#prefix}limit:${options.name}`,
      points: options.points,
      duration: options.duration,
    });
  }

  async add(key: string, ttlMs: number) {
    return (await this.#redis.set(`${this.#prefix}nonce:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async revoke(sessionId: string, untilMs: number) {
    await this.#redis.set(`${this.#prefix}revoked:${sessionId}`, '1', 'PXAT', Math.max(untilMs, Date.now() + 1));
  }

  async isRevoked(sessionId: string) {
    return (await this.#redis.exists(`${this.#prefix}revoked:${sessionId}`)) === 1;
  }

  async close() {
    await Promise.allSettled([this.#pg.end(), this.#redis.quit()]);
  }
}
