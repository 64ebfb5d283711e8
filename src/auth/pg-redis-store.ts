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
import { migratePostgres } from './migrations';
import { type AuthStore, type LimiterOptions, type SessionRecord, sessionRow } from './store';

/** What the store uses of a `pg` Pool. */
export interface PgPool {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
  connect(): Promise<{ query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>; release(): void }>;
  end(): Promise<void>;
}

/** What the store uses of an ioredis client. */
export interface RedisClient {
  set(key: string, value: string, ...args: unknown[]): Promise<unknown>;
  exists(key: string): Promise<number>;
  quit(): Promise<unknown>;
}

/** Connection settings of `PgRedisStore`. */
export interface PgRedisStoreOptions {
  /** A PostgreSQL connection string, or the application's own `pg` Pool (which `close()` then leaves open). */
  postgres: string | PgPool;
  /** A Redis URL, or the application's own ioredis client (which `close()` then leaves open). */
  redis: string | RedisClient;
  /** Prefix of every Redis key; `keyward:` by default. */
  prefix?: string;
}

/** An `AuthStore` for several instances: password files in PostgreSQL, everything that expires in Redis. */
export class PgRedisStore implements AuthStore {
  readonly #pg: PgPool;
  readonly #redis: RedisClient;
  readonly #ownsPg: boolean;
  readonly #ownsRedis: boolean;
  readonly #prefix: string;
  readonly #ready: Promise<unknown>;

  /**
   * Connects lazily (or uses the clients given); needs the optional peers `pg`
   * and `ioredis` installed for connection strings. The PostgreSQL schema is
   * migrated on first use (src/auth/migrations.ts).
   */
  constructor(options: PgRedisStoreOptions) {
    // Checked before anything connects: a wrong type would otherwise surface inside pg or ioredis.
    const pgGiven = typeof options?.postgres === 'object' && options.postgres !== null;
    const redisGiven = typeof options?.redis === 'object' && options.redis !== null;
    if (!(typeof options?.postgres === 'string' || (pgGiven && typeof (options.postgres as PgPool).connect === 'function'))) {
      throw new InvalidArgumentError('options.postgres must be a connection string or a pg Pool');
    }
    if (!(typeof options.redis === 'string' || (redisGiven && typeof (options.redis as RedisClient).set === 'function'))) {
      throw new InvalidArgumentError('options.redis must be a Redis URL or an ioredis client');
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string') throw new InvalidArgumentError('options.prefix must be a string');
    if (typeof options.postgres === 'string') {
      const { Pool } = require('pg') as { Pool: new (config: { connectionString: string; max?: number }) => PgPool };
      this.#pg = new Pool({ connectionString: options.postgres, max: 10 });
    } else {
      this.#pg = options.postgres;
    }
    if (typeof options.redis === 'string') {
      const IORedis = require('ioredis') as new (url: string, options?: object) => RedisClient;
      this.#redis = new IORedis(options.redis, { maxRetriesPerRequest: 3 });
    } else {
      this.#redis = options.redis;
    }
    this.#ownsPg = !pgGiven;
    this.#ownsRedis = !redisGiven;
    this.#prefix = options.prefix ?? 'keyward:';
    this.#ready = migratePostgres(this.#pg);
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

  async recordSession(s: SessionRecord) {
    await this.#ready;
    await this.#pg.query(
      `INSERT INTO keyward_sessions VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (session_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, expires_at = excluded.expires_at`,
      [s.sessionId, s.username, s.createdAt, s.expiresAt, s.lastSeenAt, s.address ?? null, s.userAgent ?? null],
    );
  }

  async listSessions(username: string, nowMs: number) {
    await this.#ready;
    const { rows } = await this.#pg.query('SELECT * FROM keyward_sessions WHERE username = $1 AND expires_at > $2 ORDER BY created_at DESC', [username, nowMs]);
    return rows.map(sessionRow);
  }

  async touchSession(sessionId: string, atMs: number) {
    await this.#ready;
    await this.#pg.query('UPDATE keyward_sessions SET last_seen_at = $2 WHERE session_id = $1', [sessionId, atMs]);
  }

  async extendSession(sessionId: string, username: string, expiresAt: number, atMs: number) {
    await this.#ready;
    const result = await this.#pg.query('UPDATE keyward_sessions SET expires_at = $3, last_seen_at = $4 WHERE session_id = $1 AND username = $2', [
      sessionId,
      username,
      expiresAt,
      atMs,
    ]);
    return result.rowCount === 1;
  }

  async deleteUser(username: string) {
    await this.#ready;
    await this.#pg.query('DELETE FROM keyward_sessions WHERE username = $1', [username]);
    const result = await this.#pg.query('DELETE FROM keyward_users WHERE username = $1', [username]);
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
    await this.#ready;
    await this.#pg.query('DELETE FROM keyward_sessions WHERE session_id = $1', [sessionId]);
  }

  async isRevoked(sessionId: string) {
    return (await this.#redis.exists(`${this.#prefix}revoked:${sessionId}`)) === 1;
  }

  /** Closes the connections this store opened; clients the application passed in stay open. */
  async close() {
    await Promise.allSettled([this.#ownsPg ? this.#pg.end() : undefined, this.#ownsRedis ? this.#redis.quit() : undefined]);
  }
}
