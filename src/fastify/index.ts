/**
 * `keyward/fastify`: the auth service as a Fastify plugin (`fastify-plugin`,
 * name `keyward`, Fastify 5).
 *
 * ```ts
 * import Fastify from 'fastify';
 * import { keywardAuth, withAuth } from 'keyward/fastify';
 *
 * const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });      // the app's limit stays the app's
 * app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
 *   done(null, Object.fromEntries(new URLSearchParams(body as string))));  // the app's own parsers stay too
 * await app.register(keywardAuth, { service, prefix: '/auth' });  // POST /auth/register/*, /auth/login/*, /auth/logout
 * app.post('/api/transfer', { preHandler: app.requirePop }, withAuth(async (req) => ({ from: req.auth.username })));
 * app.get('/api/me', { onRequest: app.requirePop }, withAuth(async (req) => ({ user: req.auth.username })));
 * await app.listen({ port: 3000 });
 * ```
 *
 * What the plugin changes in the application: a `requirePop` decorator, a
 * `request.auth` decoration and an `onRoute` hook. It installs no parser and
 * no limit outside its own routes. The auth routes live in their own
 * encapsulated context (their own JSON parser, body limit and error
 * handler), under `prefix` when one is given.
 *
 * Signed routes: a route that lists `app.requirePop` in its options
 * (`onRequest`, `preValidation` or `preHandler`) gets a `preParsing` hook
 * that copies the body's bytes as the application's parser reads them,
 * whatever the content type and whichever parser; the signature is checked
 * against those bytes. Listed in `onRequest`, `requirePop` refuses a
 * request without a bearer at once and finishes the check in `preValidation`,
 * once the body is read (the MAC covers it); a body is never parsed for a
 * request that failed it. Used as an instance-wide hook
 * (`addHook('preHandler', app.requirePop)`) it cannot see raw bytes: it
 * then verifies requests without a body and refuses those with one.
 *
 * Every refusal has the shape `{ error: { code, message } }`: 401 with
 * `WWW-Authenticate`, 429 with `Retry-After`, 400 `ERR_AUTH_BAD_REQUEST` for
 * a body that does not match an auth route.
 */

import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteGenericInterface, RouteOptions } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { AuthService, AuthSession } from '../auth/service';
import { PopError } from '../errors';
import { corsOptions, corsOriginsArg, loadFastifyCors } from '../http/cors';
import { type HttpFailure, httpFailure, popFailure } from '../http/errors';
import { headersShowBody, unreadBody } from '../http/raw-body';
import { AUTH_BODY_LIMIT, type AuthRoute, authRoutes, bodySchema, validateBody } from '../http/routes';
import { binding } from '../native';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified session, set by `requirePop`; use `withAuth` for a handler that sees it as present. */
    auth?: AuthSession;
  }
  interface FastifyInstance {
    /** Verifies a signed request and sets `request.auth`; list it in a route's `onRequest`, `preValidation` or `preHandler`. */
    requirePop: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

/** Options of the `keywardAuth` plugin. */
export interface KeywardFastifyOptions {
  /** The auth service the routes answer with (`createAuthService`). */
  service: AuthService;
  /** Largest body the auth routes accept, in bytes; 64 KiB by default. The application's routes keep their own limit. */
  bodyLimit?: number;
  /** Where the auth routes are mounted (`/auth` → `POST /auth/login/start`); the root by default. */
  prefix?: string;
  /**
   * Origins (`https://app.example`) whose pages may call the application
   * from a browser (`keyward/web`): CORS on every route through
   * `@fastify/cors` (an optional peer dependency), allowing the headers a
   * signed request sends and exposing `Retry-After` and `WWW-Authenticate`.
   * None by default (no CORS headers at all).
   */
  corsOrigins?: readonly string[];
}

/** The raw bytes of a signed request's body, kept by the tee below. */
const kRawBody = Symbol('keyward.rawBody');
type WithRaw = FastifyRequest & { [kRawBody]?: Buffer };

function send(reply: FastifyReply, failure: HttpFailure): FastifyReply {
  return reply.code(failure.status).headers(failure.headers).send(failure.body);
}

/**
 * A `preParsing` hook: hands the parser the same stream and keeps a copy of
 * every chunk it reads. The application's parser and body limit decide what
 * is read; the copy is at most what they accepted.
 *
 * A listener rather than a Transform in between: a stream and a pipeline per
 * request cost about 40 % of a signed route's throughput (measured). It is a
 * callback hook, so the parser attaches its own listeners in the same tick,
 * before the stream starts flowing, and sees every chunk too. Fastify's own
 * parsers decode text themselves, so the chunks are the bytes as sent; a
 * custom parser that sets an encoding on the stream makes them arrive
 * decoded, and they are encoded back (exact for valid text; invalid UTF-8
 * would come back different, and the MAC would refuse that request).
 */
function captureRawBody(request: FastifyRequest, _reply: FastifyReply, payload: Readable, done: (error: Error | null, payload?: Readable) => void): void {
  if (!headersShowBody(request.headers)) {
    done(null, payload);
    return;
  }
  const chunks: Buffer[] = [];
  payload.on('data', (chunk: Buffer | string) => {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, (payload.readableEncoding ?? 'utf8') as BufferEncoding) : chunk);
  });
  payload.on('end', () => {
    (request as WithRaw)[kRawBody] = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  });
  done(null, payload);
}

type Hook = (...args: never[]) => unknown;
const hooksOf = (value: unknown): Hook[] => (value === undefined ? [] : Array.isArray(value) ? [...(value as Hook[])] : [value as Hook]);

async function keyward(app: FastifyInstance, options: KeywardFastifyOptions) {
  const service = options?.service;
  if (typeof service?.verify !== 'function') throw new TypeError('keyward: options.service must be an AuthService (createAuthService)');
  const bodyLimit = options.bodyLimit ?? AUTH_BODY_LIMIT;
  const corsOrigins = options.corsOrigins === undefined ? [] : corsOriginsArg(options.corsOrigins, 'options.corsOrigins');
  // On the application (this plugin is not encapsulated), so its own routes answer preflights too.
  if (corsOrigins.length > 0) await app.register(await loadFastifyCors(), corsOptions(corsOrigins));

  async function requirePop(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.auth !== undefined) return;
    const body = (request as WithRaw)[kRawBody];
    if (body === undefined && headersShowBody(request.headers)) {
      send(reply, popFailure(unreadBody()));
      return;
    }
    try {
      request.auth = await service.verify({ method: request.method, url: request.url, headers: request.headers, body });
    } catch (error) {
      const failure = httpFailure(error);
      if (failure === undefined) throw error;
      send(reply, failure);
    }
  }

  /** `requirePop` listed in `onRequest`: what can be refused before the body is read. */
  async function requireBearer(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string' && authorization.startsWith(binding.POP_BEARER_PREFIX)) return;
    send(reply, popFailure(new PopError('no bearer session id', 'ERR_POP_NO_SESSION')));
  }

  app.decorate('requirePop', requirePop);
  app.decorateRequest('auth', undefined);
  app.decorateRequest(kRawBody, undefined);

  // Routes that list requirePop keep their body's bytes; an early requirePop moves after the parser.
  app.addHook('onRoute', (route: RouteOptions) => {
    const onRequest = hooksOf(route.onRequest);
    const preParsing = hooksOf(route.preParsing);
    const preValidation = hooksOf(route.preValidation);
    const preHandler = hooksOf(route.preHandler);
    const pop = requirePop as unknown as Hook;
    const early = onRequest.includes(pop) || preParsing.includes(pop);
    const late = preValidation.includes(pop) || preHandler.includes(pop);
    if (!early && !late) return;
    const r = route as unknown as Record<string, Hook[]>;
    if (early) {
      r.onRequest = onRequest.map((hook) => (hook === pop ? (requireBearer as unknown as Hook) : hook));
      if (!late) r.preValidation = [pop, ...preValidation];
    }
    const parsing = preParsing.filter((hook) => hook !== pop);
    if (!parsing.includes(captureRawBody as unknown as Hook)) parsing.push(captureRawBody as unknown as Hook);
    r.preParsing = parsing;
  });

  await app.register(authRoutesPlugin, { service, bodyLimit, prefix: options.prefix });
}

/** The auth routes, encapsulated: their parser, limit and error handler touch nothing else. */
async function authRoutesPlugin(scope: FastifyInstance, options: { service: AuthService; bodyLimit: number }) {
  const { service, bodyLimit } = options;
  scope.setErrorHandler((error, request, reply) => {
    const failure = httpFailure(error, { ownRoute: true });
    if (failure === undefined) throw error;
    // Through the application's logger, with the code only (a message may name the user).
    request.log.info({ keyward: request.routeOptions.url, code: failure.body.error.code }, 'keyward auth request refused');
    return send(reply, failure);
  });
  // The application's JSON parser may be anything; the auth routes read strict JSON.
  if (scope.hasContentTypeParser('application/json')) scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(bytes.toString('utf8')));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), undefined);
    }
  });

  const validatorFor = (route: AuthRoute) => () => (data: unknown) => {
    try {
      return { value: validateBody(route, data) };
    } catch (error) {
      return { error: error as Error };
    }
  };
  for (const route of authRoutes) {
    const schema = bodySchema(route);
    scope.post(
      route.path,
      {
        bodyLimit,
        ...(schema === undefined ? {} : { schema: { body: schema }, validatorCompiler: validatorFor(route) }),
        ...(route.signed ? { preHandler: scope.requirePop } : {}),
      },
      async (request) => {
        const result = await route.handle(service, request.body as Record<string, string>, {
          ip: request.ip,
          userAgent: request.headers['user-agent'],
          auth: request.auth,
        });
        request.log.info({ keyward: route.path }, 'keyward auth request done');
        return result;
      },
    );
  }
}

/**
 * The plugin. `app.register(keywardAuth, { service, prefix?, bodyLimit?, corsOrigins? })`;
 * then `app.requirePop` protects the application's routes. Registering it
 * without an auth service as `options.service` fails with a `TypeError`.
 */
export const keywardAuth = fastifyPlugin(keyward, { name: 'keyward', fastify: '5.x' });

/** A request on a route guarded by `requirePop`: `auth` is set. */
export type AuthenticatedRequest<RouteGeneric extends RouteGenericInterface = RouteGenericInterface> = FastifyRequest<RouteGeneric> & {
  auth: AuthSession;
};

/**
 * A route handler that sees `request.auth` as present. Use it on routes that
 * list `app.requirePop`; called without a verified session (a route that
 * forgot `requirePop`), it throws instead of running.
 */
export function withAuth<RouteGeneric extends RouteGenericInterface = RouteGenericInterface, Result = unknown>(
  handler: (this: FastifyInstance, request: AuthenticatedRequest<RouteGeneric>, reply: FastifyReply<RouteGeneric>) => Result,
): (this: FastifyInstance, request: FastifyRequest<RouteGeneric>, reply: FastifyReply<RouteGeneric>) => Result {
  return function (this: FastifyInstance, request, reply) {
    if (request.auth === undefined) throw new Error('keyward: this handler needs requirePop in its route options');
    return handler.call(this, request as AuthenticatedRequest<RouteGeneric>, reply);
  };
}

export default keywardAuth;
