/**
 * The auth service mounted on a real Fastify or Express server on loopback,
 * as the HTTP tests use it: keyward's routes (under `prefix`), a signed
 * `GET` route for the application's own API, and CORS when asked for. The
 * server closes when the test ends.
 */

import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import express from 'express';
import Fastify from 'fastify';
import { keywardCors, keywardErrorHandler, keywardRouter, requirePop } from '../../src/express/index';
import { keywardAuth } from '../../src/fastify/index';
import type { AuthService } from '../../src/index';

/** What to mount besides keyward's routes. */
export interface MountOptions {
  /** Where keyward's routes go (`/auth`); the root by default. */
  prefix?: string;
  /** The application's signed route, answering `{ ok: true, user }`; `/me` by default. */
  signedPath?: string;
  /** Origins allowed by CORS (Fastify's `corsOrigins`, Express's `keywardCors`); no CORS by default. */
  corsOrigins?: string[];
}

/** Mounts `service` and resolves to the server's origin (`http://127.0.0.1:port`), without the prefix. */
export type Mount = (t: ExecutionContext, service: AuthService, options?: MountOptions) => Promise<string>;

/** keyward on Fastify: the `keywardAuth` plugin and `app.requirePop`. */
export const mountFastify: Mount = async (t, service, options = {}) => {
  const app = Fastify();
  await app.register(keywardAuth, { service, prefix: options.prefix, corsOrigins: options.corsOrigins });
  app.get(options.signedPath ?? '/me', { preHandler: app.requirePop }, async (request) => ({ ok: true, user: request.auth!.username }));
  t.teardown(() => app.close());
  return app.listen({ host: '127.0.0.1', port: 0 });
};

/** keyward on Express: `keywardRouter`, `requirePop` and `keywardErrorHandler`. */
export const mountExpress: Mount = async (t, service, options = {}) => {
  const app = express();
  if (options.corsOrigins !== undefined) app.use(keywardCors(options.corsOrigins));
  app.use(options.prefix ?? '/', keywardRouter({ service }));
  app.get(options.signedPath ?? '/me', requirePop(service), (req, res) => void res.json({ ok: true, user: req.auth!.username }));
  app.use(keywardErrorHandler());
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** Both adapters by name, for tests that run once on each. */
export const mounts: Record<'fastify' | 'express', Mount> = { fastify: mountFastify, express: mountExpress };
