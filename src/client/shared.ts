/**
 * What `keyward/client` and `keyward/web` share: argument checks and the
 * reading of a server's refusal. No Node built-ins: the browser bundle uses it.
 */

import { AuthError, type AuthErrorCode, InvalidArgumentError, KeywardError, PopError, type PopErrorCode } from '../errors';

export async function failure(response: Response): Promise<KeywardError> {
  let body: { error?: { code?: string; message?: string } } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON: fall through with the status
  }
  const code = body.error?.code ?? 'ERR_HTTP';
  const text = body.error?.message ?? `HTTP ${response.status}`;
  if (code.startsWith('ERR_POP_')) return new PopError(text, code as PopErrorCode);
  if (code.startsWith('ERR_AUTH_')) return new AuthError(text, code as AuthErrorCode);
  return new KeywardError(text, code);
}

/** The username travels as JSON: a string, checked here rather than by JSON.stringify (which throws on a bigint). */
export function usernameArg(value: unknown): void {
  if (typeof value !== 'string') throw new InvalidArgumentError('username must be a string');
}

/** An http(s) URL without query or fragment, with no trailing slash, so that paths append to it. */
export function baseArg(value: unknown, name: string): string {
  let url: URL;
  try {
    if (typeof value !== 'string') throw new TypeError();
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`options.${name} must be an http(s) URL`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new InvalidArgumentError(`options.${name} must be an http(s) URL without query, fragment or credentials`);
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * The server's time from a refusal as stale (`ERR_POP_STALE` carries
 * `serverTime`), or undefined for any other answer. A client whose clock is
 * off signs again once with the measured offset.
 */
export async function staleServerTime(response: Response): Promise<number | undefined> {
  if (response.status !== 401) return undefined;
  const refusal = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: { code?: string; serverTime?: unknown } } | undefined;
  const serverTime = refusal?.error?.serverTime;
  return refusal?.error?.code === 'ERR_POP_STALE' && typeof serverTime === 'number' && Number.isFinite(serverTime) ? serverTime : undefined;
}

/** A session as `listSessions` shows it: no key, no token. Times are ms since the epoch. */
export interface SessionInfo {
  sessionId: string;
  username: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  address?: string;
  userAgent?: string;
  /** True for the session making the call. */
  current: boolean;
}
