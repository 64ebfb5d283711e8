export { createAuthService, AuthSession, type AuthService, type AuthServiceOptions, type RequestContext, type RateLimitOptions } from './service';
export { MemoryStore, type AuthStore, type LimiterOptions } from './store';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store';
export { SqliteUnavailableError } from './sqlite-driver';
export { PgRedisStore, type PgRedisStoreOptions } from './pg-redis-store';
export { USERNAME_MAX_BYTES } from './username';
