/**
 * One mapping from errors to HTTP answers for every adapter: the status,
 * the headers (`WWW-Authenticate` on 401, `Retry-After` on 429) and one
 * JSON shape, `{ error: { code, message } }`.
 */
import { AuthError, PopError } from '../errors';
import { binding } from '../native';

export interface HttpFailure {
  status: number;
  headers: Record<string, string>;
  /** `serverTime` (ms since the epoch) only on `ERR_POP_STALE`, so that a client whose clock is off can measure by how much. */
  body: { error: { code: string; message: string; serverTime?: number } };
}

/** `Retry-After` when the service did not say: the shortest window a client should wait. */
export const DEFAULT_RETRY_AFTER_S = 60;

const REALM = `${binding.POP_BEARER_PREFIX}realm="keyward"`;

function failure(status: number, code: string, message: string, headers: Record<string, string> = {}): HttpFailure {
  return { status, headers, body: { error: { code, message } } };
}

/** Whole seconds, at least 1, from the `retryAfterMs` the service puts on a rate-limit refusal. */
function retryAfter(error: AuthError): string {
  const ms = (error as AuthError & { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return String(DEFAULT_RETRY_AFTER_S);
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/**
 * The framework's refusals of a body before keyward sees it (Fastify's
 * `FST_ERR_CTP_*` and validation errors, body-parser's `entity.*`), as
 * `ERR_AUTH_BAD_REQUEST` with a fixed message: a parser's own message can
 * quote the body.
 */
function bodyFailure(error: unknown): HttpFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { statusCode?: unknown; status?: unknown; code?: unknown; type?: unknown; validation?: unknown };
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : undefined;
  const code = typeof e.code === 'string' ? e.code : '';
  const type = typeof e.type === 'string' ? e.type : '';
  if (e.validation !== undefined || code === 'FST_ERR_VALIDATION') return failure(400, 'ERR_AUTH_BAD_REQUEST', 'the body does not match this route');
  if (status === 413 || code === 'FST_ERR_CTP_BODY_TOO_LARGE' || type === 'entity.too.large') {
    return failure(413, 'ERR_AUTH_BAD_REQUEST', 'the body is too large');
  }
  if (status === 415 || code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return failure(415, 'ERR_AUTH_BAD_REQUEST', 'the body must be JSON (application/json, UTF-8)');
  }
  if ((code.startsWith('FST_ERR_CTP_') || type.startsWith('entity.') || type === 'request.aborted') && status !== undefined && status >= 400 && status < 500) {
    return failure(400, 'ERR_AUTH_BAD_REQUEST', 'the body is not valid JSON');
  }
  return undefined;
}

/**
 * The HTTP answer for an error keyward knows, or undefined for anything
 * else (the framework's own handling then applies). `ownRoute` is true on
 * keyward's auth routes, where the framework's body errors are keyward's to
 * answer too; on the application's routes only `AuthError`/`PopError` are.
 */
/** The answer to a refused PoP request: 401 with a challenge, or 429 for a session over its nonce cap. */
export function popFailure(error: PopError): HttpFailure {
  // A session over its nonce cap: its nonces expire within two replay windows (a minute by default).
  if (error.status === 429) return failure(429, error.code, error.message, { 'retry-after': String(DEFAULT_RETRY_AFTER_S) });
  const refused = failure(401, error.code, error.message, { 'www-authenticate': `${REALM}, error="invalid_token", error_description="${error.code}"` });
  // The server's clock is no secret (every response's Date header carries it, to the second).
  if (error.code === 'ERR_POP_STALE' && error.serverTime !== undefined) refused.body.error.serverTime = error.serverTime;
  return refused;
}

export function httpFailure(error: unknown, options?: { ownRoute?: boolean }): HttpFailure | undefined {
  if (error instanceof PopError) return popFailure(error);
  if (error instanceof AuthError) {
    const headers: Record<string, string> = {};
    if (error.status === 429) headers['retry-after'] = retryAfter(error);
    if (error.status === 401) headers['www-authenticate'] = `${REALM}, error_description="${error.code}"`;
    return failure(error.status, error.code, error.message, headers);
  }
  return options?.ownRoute === true ? bodyFailure(error) : undefined;
}
