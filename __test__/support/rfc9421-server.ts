/**
 * A real Fastify server with keywardAuth under `/auth` that accepts the
 * given PoP forms, with the origin taken from the Host header (loopback, no
 * proxy), and two signed routes: `POST /api/transfer` echoes the body,
 * `GET /api/me` the user. The RFC 9421 tests (interop and web) use it.
 */
import type { ExecutionContext } from 'ava';
import Fastify from 'fastify';
import { keywardAuth, withAuth } from '../../src/fastify/index';
import { createAuthService, MemoryStore, SecretKey, ServerSetup } from '../../src/index';

export async function rfc9421Server(t: ExecutionContext, forms?: ('keyward' | 'rfc9421')[]) {
  const setup = ServerSetup.generate();
  const service = createAuthService({
    serverSetup: setup,
    store: new MemoryStore(),
    sealKey: SecretKey.generate(),
    popForms: forms,
    popOrigin: (request) => `http://${(request.headers as Record<string, string>).host}`,
  });
  const app = Fastify();
  await app.register(keywardAuth, { service, prefix: '/auth' });
  app.post(
    '/api/transfer',
    { preHandler: app.requirePop },
    withAuth(async (request) => ({ user: request.auth.username, body: request.body })),
  );
  app.get(
    '/api/me',
    { preHandler: app.requirePop },
    withAuth(async (request) => ({ user: request.auth.username })),
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  return { base, setup };
}
