/**
 * The reference server behind `keyward serve`: the auth endpoints of
 * `keyward/fastify` and one protected route, `POST /api/transfer`, that only
 * a request signed with the session's key reaches.
 */
import type { FastifyInstance } from 'fastify';
import { createAuthService } from '../auth/service';
import type { AuthStore } from '../auth/store';
import { KeywardError } from '../errors';
import { keywardAuth } from '../fastify/index';
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
  rateLimit?: { perUser?: number; perAddress?: number; windowMs?: number };
}

/** Raised when the optional peer dependency `fastify` is not installed. */
function missingFastify(error: unknown): never {
  const e = error as { code?: string; message?: string };
  if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && /fastify/.test(e.message ?? '')) {
    throw new KeywardError('the reference server needs the fastify package: npm install fastify', 'ERR_MISSING_PEER_DEPENDENCY');
  }
  throw error;
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
  const { default: Fastify } = await import('fastify').catch(missingFastify);
  return Fastify;
}

async function build(options: ReferenceServerOptions): Promise<FastifyInstance> {
  const Fastify = await loadFastify();
  const service = createAuthService({ serverSetup: options.serverSetup, store: options.store, sealKey: options.sealKey, rateLimit: options.rateLimit });
  const logger = options.logLevel !== undefined ? { level: options.logLevel } : (options.logger ?? false);
  const app = Fastify({ logger, bodyLimit: 64 * 1024, trustProxy: options.trustProxy ?? false });
  await app.register(keywardAuth, { service });
  app.get('/health', async () => ({ ok: true }));
  app.post(
    '/api/transfer',
    {
      preHandler: app.requirePop,
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
      return { ok: true, from: request.auth!.username, to, amount };
    },
  );
  return app;
}
