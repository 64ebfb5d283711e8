/**
 * `keyward/fastify`: the auth service as a Fastify plugin.
 *
 * ```ts
 * app.register(keywardAuth, { service });
 * app.post('/api/transfer', { preHandler: app.requirePop }, (req) => ({ user: req.auth!.username }));
 * ```
 * Adds `POST /register/start`, `/register/finish`, `/login/start`,
 * `/login/finish` and `/logout` (signed), and a `requirePop` pre-handler
 * that verifies a signed request and sets `request.auth`. JSON bodies are
 * kept as the exact bytes received, because the signature covers them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, PopError } from '../errors';
import type { AuthService, AuthSession } from '../auth/service';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified session, set by `requirePop`. */
    auth?: AuthSession;
    /** The request body exactly as received (JSON routes). */
    rawBody?: Buffer;
  }
  interface FastifyInstance {
    requirePop: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export interface KeywardFastifyOptions {
  service: AuthService;
  /** Largest JSON body accepted, in bytes; 64 KiB by default. */
  bodyLimit?: number;
}

const b64 = { type: 'string', minLength: 1, maxLength: 8192, pattern: '^[A-Za-z0-9_-]+$' } as const;
const name = { type: 'string', minLength: 1, maxLength: 128 } as const;
const schema = (properties: Record<string, object>) => ({
  body: { type: 'object', additionalProperties: false, required: Object.keys(properties), properties },
});

function send(reply: FastifyReply, error: unknown) {
  if (error instanceof AuthError) return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
  if (error instanceof PopError) return reply.code(401).send({ error: { code: error.code, message: error.message } });
  throw error;
}

async function keywardAuth(app: FastifyInstance, options: KeywardFastifyOptions) {
  const { service } = options;
  const bodyLimit = options.bodyLimit ?? 64 * 1024;

  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    request.rawBody = body as Buffer;
    if ((body as Buffer).length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });

  app.decorate('requirePop', async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      request.auth = await service.verify({ method: request.method, url: request.url, headers: request.headers, body: request.rawBody });
    } catch (error) {
      return send(reply, error);
    }
  });

  type Body = Record<string, unknown>;
  const route = (path: string, properties: Record<string, object>, handler: (body: Body, request: FastifyRequest) => Promise<object>) =>
    app.post(path, { schema: schema(properties), bodyLimit }, async (request, reply) => {
      try {
        return await handler(request.body as Body, request);
      } catch (error) {
        return send(reply, error);
      }
    });

  route('/register/start', { username: name, request: b64 }, (body) => service.registerStart(body));
  route('/register/finish', { username: name, upload: b64 }, (body) => service.registerFinish(body));
  route('/login/start', { username: name, request: b64 }, (body, request) => service.loginStart(body, request.ip));
  route('/login/finish', { loginState: b64, finalization: b64 }, (body) => service.loginFinish(body));
  app.post('/logout', { preHandler: app.requirePop }, async (request) => {
    await service.logout(request.auth!);
    return { ok: true };
  });
}

// Like fastify-plugin: the parser and `requirePop` apply to the application's own routes too.
(keywardAuth as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

export { keywardAuth };
export default keywardAuth;
