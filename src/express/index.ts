/**
 * `keyward/express`: the auth service as an Express router and middleware.
 *
 * ```ts
 * app.use(keywardRouter({ service }));
 * app.post('/api/transfer', requirePop(service), (req, res) => res.json({ user: req.auth!.username }));
 * ```
 * The router answers `POST /register/start`, `/register/finish`,
 * `/login/start`, `/login/finish` and `/logout` (signed). `requirePop` needs
 * the exact body bytes: mount `keywardJson()` (or the router, which does) in
 * front of signed routes instead of `express.json()`.
 */
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { AuthService, AuthSession } from '../auth/service';
import { AuthError, PopError } from '../errors';

declare global {
  // Express's own augmentation point for request properties.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      auth?: AuthSession;
      rawBody?: Buffer;
    }
  }
}

function send(res: Response, error: unknown, next: NextFunction) {
  if (error instanceof AuthError) return void res.status(error.status).json({ error: { code: error.code, message: error.message } });
  if (error instanceof PopError) return void res.status(401).json({ error: { code: error.code, message: error.message } });
  next(error);
}

/** Keeps the exact JSON body bytes (the signature covers them) and parses them. */
export function keywardJson(options?: { limit?: number }): RequestHandler {
  const limit = options?.limit ?? 64 * 1024;
  return (req, res, next) => {
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.status(413).json({ error: { code: 'ERR_AUTH_BAD_REQUEST', message: 'body too large' } });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      req.rawBody = Buffer.concat(chunks);
      try {
        req.body = req.rawBody.length === 0 ? undefined : JSON.parse(req.rawBody.toString('utf8'));
        next();
      } catch {
        res.status(400).json({ error: { code: 'ERR_AUTH_BAD_REQUEST', message: 'the body is not valid JSON' } });
      }
    });
  };
}

/** Verifies the signed request and sets `req.auth`; answers 401 with the `PopError` code otherwise. */
export function requirePop(service: AuthService): RequestHandler {
  return (req, res, next) => {
    service
      .verify({ method: req.method, url: req.originalUrl, headers: req.headers, body: req.rawBody })
      .then((session) => {
        req.auth = session;
        next();
      }, (error) => send(res, error, next));
  };
}

const fields: Record<string, string[]> = {
  '/register/start': ['username', 'request'],
  '/register/finish': ['username', 'upload'],
  '/login/start': ['username', 'request'],
  '/login/finish': ['loginState', 'finalization'],
};

/** Exactly the expected string fields, each within bounds. */
function valid(path: string, body: unknown): body is Record<string, string> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const expected = fields[path];
  const keys = Object.keys(body);
  return keys.length === expected.length && expected.every((k) => typeof (body as Record<string, unknown>)[k] === 'string' && ((body as Record<string, string>)[k].length <= 8192));
}

export function keywardRouter(options: { service: AuthService; bodyLimit?: number }): Router {
  // Loaded on use: express is an optional peer dependency of keyward.
  const express = require('express') as typeof import('express');
  const { service } = options;
  const router = express.Router();
  router.use(keywardJson({ limit: options.bodyLimit }));
  const handlers: Record<string, (body: Record<string, string>, req: Request) => Promise<object>> = {
    '/register/start': (body) => service.registerStart(body),
    '/register/finish': (body) => service.registerFinish(body),
    '/login/start': (body, req) => service.loginStart(body, req.ip),
    '/login/finish': (body) => service.loginFinish(body),
  };
  for (const [path, handler] of Object.entries(handlers)) {
    router.post(path, (req, res, next) => {
      if (!valid(path, req.body)) return void res.status(400).json({ error: { code: 'ERR_AUTH_BAD_REQUEST', message: `expected ${fields[path].join(', ')}` } });
      handler(req.body, req).then((result) => res.json(result), (error) => send(res, error, next));
    });
  }
  router.post('/logout', requirePop(service), (req, res, next) => {
    service.logout(req.auth!).then(() => res.json({ ok: true }), (error) => send(res, error, next));
  });
  return router;
}
