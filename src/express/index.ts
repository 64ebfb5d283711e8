/**
 * `keyward/express`: the auth service as an Express 5 router, middleware
 * and error handler.
 *
 * ```ts
 * import express from 'express';
 * import { keepRawBody, keywardErrorHandler, keywardRouter, requirePop, withAuth } from 'keyward/express';
 *
 * const app = express();
 * app.use(express.json({ limit: '5mb', verify: keepRawBody }));  // the app's parser and limit, raw bytes kept
 * app.use('/auth', keywardRouter({ service }));                   // POST /auth/register/*, /auth/login/*, /auth/logout
 * app.post('/api/transfer', requirePop(service), withAuth((req, res) => void res.json({ from: req.auth.username })));
 * app.use(keywardErrorHandler());                                 // PoP refusals as 401 { error: { code, message } }
 * app.listen(3000);
 * ```
 *
 * Bodies are read with body-parser (Express's own `express.json`,
 * `express.urlencoded`, `express.text`, `express.raw`), per route, never for
 * the whole application: the router reads JSON on its own routes only, and
 * `requirePop` reads a body no parser has read yet (JSON, form, text, or
 * bytes for anything else) keeping its exact bytes in `req.rawBody`. A body
 * the application's parser already read is used as it is: with
 * `verify: keepRawBody` its bytes are kept and signed requests verify;
 * without, `requirePop` refuses requests with a body (it cannot check the
 * signature over bytes it never saw) and still verifies those without one.
 *
 * Failures go to `next(err)`; the router answers its own with the shared
 * shape, and `keywardErrorHandler()` does so for `requirePop` on the
 * application's routes (401 with `WWW-Authenticate`, 429 with `Retry-After`).
 */

import type { IncomingMessage } from 'node:http';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { AuthService, AuthSession } from '../auth/service';
import { InvalidArgumentError } from '../errors';
import { corsOptions, corsOriginsArg, missingPeer } from '../http/cors';
import { type HttpFailure, httpFailure } from '../http/errors';
import { headersShowBody, unreadBody } from '../http/raw-body';
import { AUTH_BODY_LIMIT, authRoutes, validateBody } from '../http/routes';

declare global {
  // Express's own augmentation point for request properties.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified session, set by `requirePop`; use `withAuth` for a handler that sees it as present. */
      auth?: AuthSession;
      /** The body's exact bytes, kept by keyward's parsers or by `verify: keepRawBody` in the application's. */
      rawBody?: Buffer;
    }
  }
}

/** Loaded on use: express is an optional peer dependency of keyward. */
const loadExpress = () => require('express') as typeof import('express');

/**
 * A body-parser `verify` function that keeps the body's bytes in
 * `req.rawBody`: `express.json({ verify: keepRawBody })`. Signed routes
 * behind the application's own parsers need it. Called with anything but a
 * request object and a Uint8Array it throws `InvalidArgumentError` (which
 * body-parser reports as a 403), so `req.rawBody` only ever holds bytes.
 */
export function keepRawBody(req: IncomingMessage, _res: unknown, buffer: Buffer): void {
  if (typeof req !== 'object' || req === null) throw new InvalidArgumentError('keepRawBody is a body-parser verify callback: req must be the request');
  if (!(buffer instanceof Uint8Array)) throw new InvalidArgumentError('keepRawBody is a body-parser verify callback: buffer must be the body bytes');
  (req as Request).rawBody = buffer;
}

/** Express 5 middleware run in sequence, as one. */
function chain(handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let i = 0;
    const step = (error?: unknown) => {
      if (error !== undefined && error !== null) return next(error);
      const handler = handlers[i++];
      if (handler === undefined) return next();
      try {
        const result = handler(req, res, step) as unknown;
        if (result instanceof Promise) result.catch(step);
      } catch (thrown) {
        step(thrown);
      }
    };
    step();
  };
}

/** Reads a body nobody has read yet, keeping its bytes; parsed by type, bytes for any other type. */
function rawBodyReader(limit: number | string): RequestHandler {
  const express = loadExpress();
  return chain([
    express.json({ limit, verify: keepRawBody }),
    express.urlencoded({ limit, verify: keepRawBody }),
    express.text({ limit, verify: keepRawBody }),
    express.raw({ limit, verify: keepRawBody, type: () => true }),
  ]);
}

/** Options of `requirePop`. */
export interface RequirePopOptions {
  /** Largest body `requirePop` reads itself (a body the application's parser read keeps that parser's limit); 1 MiB by default. */
  bodyLimit?: number | string;
}

/**
 * Verifies the signed request and sets `req.auth`; a refusal goes to
 * `next(err)` as a `PopError` (`keywardErrorHandler()` answers it with 401).
 * Throws `TypeError` at once when `service` is not an auth service.
 */
export function requirePop(service: AuthService, options?: RequirePopOptions): RequestHandler {
  if (typeof service?.verify !== 'function') throw new TypeError('keyward: requirePop needs an AuthService (createAuthService)');
  const readBody = rawBodyReader(options?.bodyLimit ?? 1024 * 1024);
  const verify: RequestHandler = (req, _res, next) => {
    if (req.auth !== undefined) return next();
    const body = req.rawBody;
    if (body === undefined && headersShowBody(req.headers)) return next(unreadBody());
    service.verify({ method: req.method, url: req.originalUrl, headers: req.headers, body }).then((session) => {
      req.auth = session;
      next();
    }, next);
  };
  return chain([readBody, verify]);
}

function send(res: Response, failure: HttpFailure): void {
  res.status(failure.status).set(failure.headers).json(failure.body);
}

/**
 * Answers keyward's errors (`PopError`, `AuthError`) with the shared shape and
 * headers; anything else goes on to the application's handlers. Mount it
 * after the routes that use `requirePop`.
 */
export function keywardErrorHandler(): ErrorRequestHandler {
  return (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const failure = httpFailure(error);
    if (failure === undefined || res.headersSent) return next(error);
    send(res, failure);
  };
}

/**
 * CORS for pages on `origins` (`keyward/web` on another origin): mount it
 * first, `app.use(keywardCors(['https://app.example']))`, so that preflights
 * are answered before any route. Through `cors` (an optional peer
 * dependency), allowing the headers a signed request sends and exposing
 * `Retry-After` and `WWW-Authenticate`. Origins other than scheme, host and
 * optional port throw `InvalidArgumentError`.
 */
export function keywardCors(origins: readonly string[]): RequestHandler {
  const list = corsOriginsArg(origins, 'origins');
  let cors: typeof import('cors');
  try {
    cors = require('cors') as typeof import('cors');
  } catch (error) {
    missingPeer('cors', 'keywardCors')(error);
    throw error;
  }
  return cors(corsOptions(list));
}

/** Options of `keywardRouter`. */
export interface KeywardRouterOptions {
  /** The auth service the routes answer with (`createAuthService`). */
  service: AuthService;
  /** Largest body the auth routes read, in bytes; 64 KiB by default. Applies to these routes only. */
  bodyLimit?: number;
}

/**
 * `POST /register/start`, `/register/finish`, `/login/start`, `/login/finish`
 * and `/logout` (signed), mounted wherever the application wants
 * (`app.use('/auth', keywardRouter({ service }))`). Throws `TypeError` when
 * `options.service` is not an auth service.
 */
export function keywardRouter(options: KeywardRouterOptions): Router {
  const express = loadExpress();
  const service = options?.service;
  if (typeof service?.verify !== 'function') throw new TypeError('keyward: options.service must be an AuthService (createAuthService)');
  const limit = options.bodyLimit ?? AUTH_BODY_LIMIT;
  const router = express.Router();
  // Per route, not router.use: a router mounted at the root sees every request of the application.
  const json = express.json({ limit, verify: keepRawBody });
  const signed = requirePop(service, { bodyLimit: limit });
  for (const route of authRoutes) {
    router.post(route.path, route.signed ? signed : json, (req, res, next) => {
      let body: Record<string, string>;
      try {
        // body-parser reads an empty JSON body as {}; Fastify as no body. Both are no body here.
        body = validateBody(route, headersShowBody(req.headers) ? req.body : undefined);
      } catch (error) {
        return next(error);
      }
      route.handle(service, body, { ip: req.ip, userAgent: req.get('user-agent'), auth: req.auth }).then((result) => void res.json(result), next);
    });
  }
  // Errors of these routes only: Express hands a router's error handlers the errors of its own layers.
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const failure = httpFailure(error, { ownRoute: true });
    if (failure === undefined || res.headersSent) return next(error);
    send(res, failure);
  });
  return router;
}

/** A request behind `requirePop`: `auth` is set. */
export type AuthenticatedRequest = Request & { auth: AuthSession };

/**
 * A handler that sees `req.auth` as present. Put it after `requirePop`;
 * reached without a verified session, it passes an error on instead of running.
 */
export function withAuth(handler: (req: AuthenticatedRequest, res: Response, next: NextFunction) => unknown): RequestHandler {
  return (req, res, next) => {
    if (req.auth === undefined) return next(new Error('keyward: this handler needs requirePop before it'));
    // Express 5 awaits a returned promise and passes its rejection to `next`.
    // biome-ignore lint/suspicious/noConfusingVoidType: RequestHandler is typed to return void
    return handler(req as AuthenticatedRequest, res, next) as void;
  };
}

/** @deprecated Use `requirePop` (it reads and keeps the body) or `express.json({ verify: keepRawBody })`. */
export function keywardJson(options?: { limit?: number }): RequestHandler {
  return loadExpress().json({ limit: options?.limit ?? AUTH_BODY_LIMIT, verify: keepRawBody });
}
