/**
 * The reference server behind `keyward serve`: the auth endpoints of
 * `keyward/fastify` and three protected routes that only a request signed
 * with the session's key reaches: `POST /api/transfer` (a JSON body checked
 * by a schema), `GET /api/whoami` (echoes the user and the query) and
 * `POST /api/echo` (JSON, text or bytes: echoes their length and SHA-256, so
 * a client can see that what it signed is what arrived).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { RateLimitOptions } from '../auth/rate-limits';
import { createAuthService } from '../auth/service';
import type { AuthStore } from '../auth/store';
import { keywardAuth } from '../fastify/index';
import { missingPeer } from '../http/cors';
import type { ServerSetup } from '../opaque/objects';
import type { SecretKey } from '../seal/key';

/** Fastify's log levels (pino's), and `silent`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const logLevels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface ReferenceServerOptions {
  serverSetup: ServerSetup;
  sealKey: SecretKey;
  /** Owned by the server from here on: `close()` closes it, and so does a failure to start. */
  store: AuthStore;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port; the returned `url` names it). */
  port?: number;
  /** Fastify's logger at info level (`true`) or none (`false`, the default); `logLevel` overrides it. */
  logger?: boolean;
  /** Fastify's logger (JSON lines on standard output) at this level. */
  logLevel?: LogLevel;
  /**
   * Fastify's `trustProxy`: which proxies' X-Forwarded-For/-Proto/-Host to
   * believe for the client address (and so the per-address rate limit) and
   * protocol. `false` (default) trusts none; `true` all; addresses or CIDR
   * ranges (an array, or a comma-separated string), those proxies.
   */
  trustProxy?: boolean | string | string[];
  /** The service's rate limits (docs/threat-model.md). */
  rateLimit?: RateLimitOptions;
  /** False refuses registration (403): for apps that create accounts another way. Default true. */
  allowRegistration?: boolean;
  /**
   * Origins (`https://app.example`) whose pages may call the server from a
   * browser: CORS through `@fastify/cors` (an optional peer dependency),
   * allowing the headers a signed request sends and exposing `Retry-After`
   * and `WWW-Authenticate`. None by default.
   */
  corsOrigins?: readonly string[];
}

/**
 * Starts the reference server on `host:port`. Rejects (after closing the
 * store) if fastify is missing or the address cannot be listened on.
 */
export async function startReferenceServer(options: ReferenceServerOptions): Promise<{ url: string; app: FastifyInstance; close: () => Promise<void> }> {
  let app: FastifyInstance | undefined;
  try {
    app = await build(options);
    const url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
    const running = app;
    return {
      url,
      app: running,
      close: async () => {
        try {
          await running.close();
        } finally {
          await options.store.close?.();
        }
      },
    };
  } catch (error) {
    try {
      await app?.close();
    } finally {
      await options.store.close?.();
    }
    throw error;
  }
}

/**
 * Loads fastify, an optional peer dependency of keyward (loaded on use);
 * rejects with code ERR_MISSING_PEER_DEPENDENCY, naming the package, if it is
 * not installed. `keyward serve` calls it before opening its store.
 */
export async function loadFastify(): Promise<typeof import('fastify').default> {
  const { default: Fastify } = await import('fastify').catch(missingPeer('fastify', 'the reference server'));
  return Fastify;
}

export { loadFastifyCors as loadCors } from '../http/cors';

async function build(options: ReferenceServerOptions): Promise<FastifyInstance> {
  const Fastify = await loadFastify();
  const service = createAuthService({
    serverSetup: options.serverSetup,
    store: options.store,
    sealKey: options.sealKey,
    rateLimit: options.rateLimit,
    allowRegistration: options.allowRegistration,
  });
  const logger = options.logLevel !== undefined ? { level: options.logLevel } : (options.logger ?? false);
  const app = Fastify({ logger, bodyLimit: 64 * 1024, trustProxy: options.trustProxy ?? false });
  await app.register(keywardAuth, { service, corsOrigins: options.corsOrigins });
  app.get('/health', async () => ({ ok: true }));
  app.post(
    '/api/transfer',
    {
      // Before schema validation: an unsigned request learns nothing about the body it would need.
      preValidation: app.requirePop,
      schema: {
        body: {
          type: 'object',
          required: ['to', 'amount'],
          additionalProperties: false,
          properties: { to: { type: 'string', minLength: 1, maxLength: 128 }, amount: { type: 'integer', minimum: 1 } },
        },
      },
    },
    async (request) => {
      const { to, amount } = request.body as { to: string; amount: number };
      // biome-ignore lint/style/noNonNullAssertion: requirePop ran in preValidation, so auth is set
      return { ok: true, from: request.auth!.username, to, amount };
    },
  );
  app.get('/api/whoami', { preHandler: app.requirePop }, async (request) => {
    // biome-ignore lint/style/noNonNullAssertion: requirePop ran in preHandler, so auth is set
    return { user: request.auth!.username, query: request.query };
  });
  await app.register(async (scope) => {
    // Every body as the bytes that arrived, whatever its type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post('/api/echo', { preHandler: scope.requirePop }, async (request) => {
      const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      return {
        // biome-ignore lint/style/noNonNullAssertion: requirePop ran in preHandler, so auth is set
        user: request.auth!.username,
        contentType: request.headers['content-type'] ?? null,
        length: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      };
    });
  });
  return app;
}
