/**
 * The auth routes, listed once for every adapter: path, the exact JSON body
 * each expects, and what it calls on the service. `keyward/fastify` and
 * `keyward/express` both mount this table and validate with
 * {@link validateBody}, so a body one refuses the other refuses alike.
 */
import { type AuthService, type AuthSession, MESSAGE_MAX_CHARS } from '../auth/service';
import { USERNAME_MAX_BYTES } from '../auth/username';
import { AuthError } from '../errors';

/** A string field: its length bounds, and a pattern when the value is base64url. */
export interface FieldSpec {
  minLength: number;
  maxLength: number;
  pattern?: RegExp;
  /** Said in the error when the field is wrong. */
  what: string;
}

const b64: FieldSpec = {
  minLength: 1,
  maxLength: MESSAGE_MAX_CHARS,
  pattern: /^[A-Za-z0-9_-]+$/,
  what: `a base64url string of 1–${MESSAGE_MAX_CHARS} characters`,
};
// Characters here, never more than bytes: the service checks the byte limit itself (usernameArg).
const name: FieldSpec = { minLength: 1, maxLength: USERNAME_MAX_BYTES, what: `a string of 1–${USERNAME_MAX_BYTES} characters` };

// A session id: 16 random bytes, base64url.
const sid: FieldSpec = { minLength: 22, maxLength: 22, pattern: /^[A-Za-z0-9_-]{22}$/, what: 'a session id (22 base64url characters)' };

// A reset grant: a sealed token (base64url), far shorter than a protocol message.
const grantField: FieldSpec = { ...b64, what: 'a reset grant' };

/** Largest auth-route body accepted by default, in bytes (the largest OPAQUE message is far smaller). */
export const AUTH_BODY_LIMIT = 64 * 1024;

/** What a route handler gets besides the body. */
export interface RouteContext {
  /** The client address as the framework reports it (its proxy settings apply). */
  ip?: string;
  /** The request's User-Agent header. */
  userAgent?: string;
  /** The verified session, on signed routes. */
  auth?: AuthSession;
}

export interface AuthRoute {
  /** Relative to wherever the application mounts keyward. */
  path: string;
  /** The JSON body's fields, all required, no others; undefined for a route that reads no body. */
  fields?: Readonly<Record<string, FieldSpec>>;
  /** Signed with the session's key (`requirePop` runs first). */
  signed: boolean;
  handle(service: AuthService, body: Record<string, string>, context: RouteContext): Promise<object>;
}

/** The verified session of a signed route (the adapters verify it before the handler runs). */
function authOf(context: RouteContext): AuthSession {
  if (context.auth === undefined) throw new Error('keyward: a signed route ran without a verified session');
  return context.auth;
}

export const authRoutes: readonly AuthRoute[] = [
  { path: '/register/start', fields: { username: name, request: b64 }, signed: false, handle: (s, body, c) => s.registerStart(body, { address: c.ip }) },
  { path: '/register/finish', fields: { username: name, upload: b64 }, signed: false, handle: (s, body, c) => s.registerFinish(body, { address: c.ip }) },
  { path: '/login/start', fields: { username: name, request: b64 }, signed: false, handle: (s, body, c) => s.loginStart(body, { address: c.ip }) },
  {
    path: '/login/finish',
    fields: { loginState: b64, finalization: b64 },
    signed: false,
    handle: (s, body, c) => s.loginFinish(body, { address: c.ip, userAgent: c.userAgent }),
  },
  {
    path: '/password/start',
    fields: { request: b64 },
    signed: true,
    handle: (s, body, c) => s.passwordChangeStart(authOf(c), body),
  },
  {
    path: '/password/finish',
    fields: { upload: b64 },
    signed: true,
    handle: (s, body, c) => s.passwordChangeFinish(authOf(c), body, { address: c.ip }),
  },
  { path: '/reset/start', fields: { grant: grantField, request: b64 }, signed: false, handle: (s, body) => s.resetStart(body) },
  { path: '/reset/finish', fields: { grant: grantField, upload: b64 }, signed: false, handle: (s, body, c) => s.resetFinish(body, { address: c.ip }) },
  { path: '/sessions/refresh', signed: true, handle: (s, _body, c) => s.refresh(authOf(c)) },
  { path: '/sessions/list', signed: true, handle: (s, _body, c) => s.listSessions(authOf(c)) },
  { path: '/sessions/revoke', fields: { sessionId: sid }, signed: true, handle: (s, body, c) => s.revokeSession(authOf(c), body) },
  { path: '/sessions/revoke-all', signed: true, handle: (s, _body, c) => s.logoutEverywhere(authOf(c)) },
  { path: '/account/delete', signed: true, handle: (s, _body, c) => s.deleteAccount(authOf(c), { address: c.ip }) },
  {
    path: '/logout',
    signed: true,
    handle: async (s, _body, c) => {
      await s.logout(authOf(c));
      return { ok: true };
    },
  },
];

const hasOwn = (o: object, k: string) => Object.hasOwn(o, k);

/**
 * The body when it has exactly the route's fields, each a string within
 * bounds; throws `AuthError` `ERR_AUTH_BAD_REQUEST` otherwise. The message
 * names the field, never its value.
 */
export function validateBody(route: AuthRoute, body: unknown): Record<string, string> {
  const fields = route.fields;
  if (fields === undefined) return {};
  const expected = Object.keys(fields);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AuthError(`the body must be a JSON object with ${expected.join(', ')}`, 'ERR_AUTH_BAD_REQUEST');
  }
  for (const key of Object.keys(body)) {
    if (!hasOwn(fields, key)) throw new AuthError(`unexpected field "${key.slice(0, 64)}"; expected ${expected.join(', ')}`, 'ERR_AUTH_BAD_REQUEST');
  }
  for (const key of expected) {
    const spec = fields[key];
    const value = (body as Record<string, unknown>)[key];
    if (!hasOwn(body, key)) throw new AuthError(`missing field "${key}"; expected ${expected.join(', ')}`, 'ERR_AUTH_BAD_REQUEST');
    if (
      typeof value !== 'string' ||
      value.length < spec.minLength ||
      value.length > spec.maxLength ||
      (spec.pattern !== undefined && !spec.pattern.test(value))
    ) {
      throw new AuthError(`"${key}" must be ${spec.what}`, 'ERR_AUTH_BAD_REQUEST');
    }
  }
  return body as Record<string, string>;
}

/** The same rules as JSON Schema, for the framework's route description (docs, OpenAPI). */
export function bodySchema(route: AuthRoute): object | undefined {
  const fields = route.fields;
  if (fields === undefined) return undefined;
  const properties = Object.fromEntries(
    Object.entries(fields).map(([key, spec]) => [
      key,
      { type: 'string', minLength: spec.minLength, maxLength: spec.maxLength, ...(spec.pattern ? { pattern: spec.pattern.source } : {}) },
    ]),
  );
  return { type: 'object', additionalProperties: false, required: Object.keys(fields), properties };
}
