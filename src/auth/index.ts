export { createAuthService, type AuthService, type AuthServiceOptions, type AuthSession } from './service';
export { MemoryStore, type AuthStore } from './store';
export { SqliteStore } from './sqlite-store';
export { PgRedisStore, type PgRedisStoreOptions } from './pg-redis-store';
