/**
 * The reference server behind `keyward serve`: the auth endpoints of
 * `keyward/fastify` and one protected route, `POST /api/transfer`, that only
 * a request signed with the session's key reaches.
 */
import type { FastifyInstance } from 'fastify';
import { createAuthService } from '../auth/service';
import type { AuthStore } from '../auth/store';
import { keywardAuth } from '../fastify/index';
import type { ServerSetup } from '../opaque/objects';
import type { SecretKey } from '../seal/key';

export interface ReferenceServerOptions {
  serverSetup: ServerSetup;
  sealKey: SecretKey;
  store: AuthStore;
  host?: string;
  port?: number;
  logger?: boolean;
  rateLimit?: { perUser?: number; perAddress?: number; windowMs?: number };
}

export async function startReferenceServer(options: ReferenceServerOptions): Promise<{ url: string; app: FastifyInstance; close: () => Promise<void> }> {
  // Loaded on use: fastify is an optional peer dependency of keyward.
  const { default: Fastify } = await import('fastify');
  const service = createAuthService({ serverSetup: options.serverSetup, store: options.store, sealKey: options.sealKey, rateLimit: options.rateLimit });
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024 });
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
  const url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return {
    url,
    app,
    close: async () => {
      await app.close();
      await options.store.close?.();
    },
  };
}
