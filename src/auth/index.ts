export { type AuthEventName, type AuthEvents, type AuthHooks, authEventNames } from './events';
export { type PgPool, PgRedisStore, type PgRedisStoreOptions, type RedisClient } from './pg-redis-store';
export { type AuthService, type AuthServiceOptions, AuthSession, createAuthService, type RateLimitOptions, type RequestContext } from './service';
export { SqliteUnavailableError } from './sqlite-driver';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store';
export { type AuthStore, type LimiterOptions, MemoryStore } from './store';
export { USERNAME_MAX_BYTES } from './username';
