/**
 * `keyward/client`: register, log in and make signed requests to a keyward
 * auth server (Node or Electron; anything with `fetch`).
 *
 * ```ts
 * const api = createClient({
 *   baseUrl: 'https://example.com/api/v1',     // api.fetch('/transfer') → https://example.com/api/v1/transfer
 *   authBaseUrl: 'https://example.com/auth',   // where keyward's routes are mounted; baseUrl by default
 *   serverPublicKey,
 * });
 * await api.login('alice', 'correct horse');
 * const res = await api.fetch('/transfer?dry=1', { method: 'POST', body: JSON.stringify({ to: 'bob' }) });
 * ```
 * Every request made through `fetch` carries a fresh proof of possession of
 * the session key; the bearer token alone is useless to whoever copies it.
 * The signature covers the target exactly as the request line carries it:
 * the base URL's path, then the path and query given, as `fetch` encodes them.
 */

import { decodeBase64Url, encodeBase64Url } from '../bytes';
import { InvalidArgumentError, PopError } from '../errors';
import { OpaqueClient } from '../opaque/client';
import type { KeyStretching, Suite } from '../opaque/types';
import { derivePopKey, PopKey } from '../pop/key';
import { signRequest, signRequestRfc9421 } from '../pop/sign';
import { baseArg, failure, type SessionInfo, staleServerTime, usernameArg } from './shared';

/** Options of `createClient`. */
export interface ClientOptions {
  /** The API's base URL; may include a path (`https://example.com/api/v1`), which every `fetch` path goes under. */
  baseUrl: string;
  /** Where keyward's auth routes are mounted (`https://example.com/auth`); `baseUrl` by default. */
  authBaseUrl?: string;
  /** The server's OPAQUE suite; `ristretto255_sha512` by default. */
  suite?: Suite;
  /** Argon2id costs; must match what the user registered with. `memory-constrained` by default. */
  keyStretching?: KeyStretching;
  /** The server's OPAQUE public key; a server with another key is refused. */
  serverPublicKey?: Uint8Array;
  /** The `fetch` to use; `globalThis.fetch` by default. */
  fetch?: typeof globalThis.fetch;
  /**
   * How requests are signed: `'keyward'` (`X-TS`/`X-NONCE`/`X-POP`, the default) or `'rfc9421'`
   * (HTTP Message Signatures over `@method`, `@target-uri` and, with a body, `content-digest`;
   * docs/pop.md "RFC 9421 profile").
   */
  signature?: 'keyward' | 'rfc9421';
}

/**
 * A client for one keyward server. A `baseUrl` or `authBaseUrl` that is not an
 * http(s) URL without query, fragment or credentials throws `InvalidArgumentError`.
 * Server refusals reject with the server's `AuthError`/`PopError` code.
 */
export function createClient(options: ClientOptions) {
  const base = baseArg(options?.baseUrl, 'baseUrl');
  const authBase = options.authBaseUrl === undefined ? base : baseArg(options.authBaseUrl, 'authBaseUrl');
  const doFetch = options.fetch ?? globalThis.fetch;
  const form = options.signature ?? 'keyward';
  if (form !== 'keyward' && form !== 'rfc9421') throw new InvalidArgumentError("signature must be 'keyward' or 'rfc9421'");
  const opaque = new OpaqueClient({ suite: options.suite, keyStretching: options.keyStretching, serverPublicKey: options.serverPublicKey });
  let session: { popKey: PopKey; username: string; expiresAt: number } | undefined;
  // Milliseconds to add to this machine's clock, learnt from a refusal as stale.
  let clockOffset = 0;

  async function post<T>(path: string, body: object): Promise<T> {
    const response = await doFetch(`${authBase}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw await failure(response);
    return (await response.json()) as T;
  }

  /**
   * A request signed with the session's key, to `baseUrl` + `path` (`/path?query`).
   * Bodies must be strings or bytes (they are signed as sent); a string goes
   * as JSON and bytes as `application/octet-stream` unless `content-type` is set.
   * A request refused as stale (this machine's clock is off by more than the
   * server's window) is signed again once with the server's time.
   */
  async function signedFetch(path: string, init: RequestInit = {}): Promise<Response> {
    return signed(base, path, init);
  }

  async function signed(root: string, path: string, init: RequestInit, retried = false): Promise<Response> {
    if (session === undefined) throw new PopError('not logged in', 'ERR_POP_NO_SESSION');
    if (typeof path !== 'string' || !path.startsWith('/')) throw new InvalidArgumentError('path must start with /');
    const body = init.body ?? undefined;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      throw new InvalidArgumentError('a signed request body must be a string or a Uint8Array');
    }
    // fetch upper-cases these six and sends others as given (Fetch, "normalize a method"): sign what goes out.
    const method = normalizeMethod(init.method ?? 'GET');
    // The URL fetch will send, parsed as fetch parses it: its path and query are the request line's target.
    const url = new URL(`${root}${path}`);
    if (url.hash !== '') throw new InvalidArgumentError('path must not have a fragment');
    const target = `${url.pathname}${url.search}`;
    const toSign = { method, body: body as string | Uint8Array | undefined, timestamp: Date.now() + clockOffset };
    const pop =
      form === 'rfc9421'
        ? signRequestRfc9421(session.popKey, { ...toSign, url: `${url.origin}${target}`, components: 'target-uri' })
        : signRequest(session.popKey, { ...toSign, url: target });
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(pop)) if (value !== undefined) headers.set(name, value);
    if (body !== undefined && body !== null && !headers.has('content-type')) {
      headers.set('content-type', typeof body === 'string' ? 'application/json' : 'application/octet-stream');
    }
    const response = await doFetch(url.href, { ...init, method, headers, body: body as BodyInit | undefined });
    if (retried) return response;
    // A refusal as stale carries the server's time: measure the skew once and sign again.
    const serverTime = await staleServerTime(response);
    if (serverTime === undefined) return response;
    clockOffset = serverTime - Date.now();
    return signed(root, path, init, true);
  }

  function forget() {
    session?.popKey.dispose();
    session = undefined;
  }

  /** A signed JSON POST to one of keyward's own routes; a refusal rejects with its code. */
  async function signedJson<T>(path: string, body?: object): Promise<T> {
    const response = await signed(authBase, path, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) throw await failure(response);
    return (await response.json()) as T;
  }

  return {
    /** Registers a new user; a taken name rejects with `AuthError` `ERR_AUTH_USER_EXISTS`. */
    async register(username: string, password: string): Promise<void> {
      usernameArg(username);
      const start = opaque.startRegistration(password);
      const { response } = await post<{ response: string }>('/register/start', { username, request: encodeBase64Url(start.request) });
      const done = await opaque.finishRegistration(start.state, password, decodeBase64Url(response));
      await post('/register/finish', { username, upload: encodeBase64Url(done.upload) });
    },

    /**
     * Sets a new password with a reset grant the application sent (see
     * `createResetGrant`); no login needed. Every session of the user ends.
     * A used, expired or altered grant rejects with `AuthError` `ERR_AUTH_RESET_GRANT`.
     */
    async resetPassword(grant: string, newPassword: string): Promise<void> {
      if (typeof grant !== 'string') throw new InvalidArgumentError('grant must be a string');
      const start = opaque.startRegistration(newPassword);
      const { response } = await post<{ response: string }>('/reset/start', { grant, request: encodeBase64Url(start.request) });
      const done = await opaque.finishRegistration(start.state, newPassword, decodeBase64Url(response));
      await post('/reset/finish', { grant, upload: encodeBase64Url(done.upload) });
    },

    /** Throws `InvalidLoginError` for a wrong password or unknown user (the server cannot tell them apart). */
    async login(username: string, password: string): Promise<{ expiresAt: number }> {
      usernameArg(username);
      const start = opaque.startLogin(password);
      const started = await post<{ response: string; loginState: string }>('/login/start', { username, request: encodeBase64Url(start.request) });
      const done = await opaque.finishLogin(start.state, password, decodeBase64Url(started.response));
      const finished = await post<{ sessionId: string; token: string; expiresAt: number }>('/login/finish', {
        loginState: started.loginState,
        finalization: encodeBase64Url(done.finalization),
      });
      session?.popKey.dispose();
      session = { popKey: derivePopKey(done.sessionKey, finished.sessionId, { bearer: finished.token }), username, expiresAt: finished.expiresAt };
      done.sessionKey.fill(0);
      return { expiresAt: finished.expiresAt };
    },

    fetch: signedFetch,

    /**
     * Changes the logged-in user's password: logs in again with the current
     * one (the server wants a fresh session for this), then registers the new
     * one over signed requests; `endOtherSessions` then revokes every other
     * session of the user. A wrong current password rejects with
     * `InvalidLoginError` and changes nothing; the session stays logged in.
     */
    async changePassword(currentPassword: string, newPassword: string, changeOptions?: { endOtherSessions?: boolean }): Promise<void> {
      if (session === undefined) throw new PopError('not logged in', 'ERR_POP_NO_SESSION');
      await this.login(session.username, currentPassword);
      const start = opaque.startRegistration(newPassword);
      const started = await signedJson<{ response: string }>('/password/start', { request: encodeBase64Url(start.request) });
      const done = await opaque.finishRegistration(start.state, newPassword, decodeBase64Url(started.response));
      await signedJson('/password/finish', { upload: encodeBase64Url(done.upload) });
      if (changeOptions?.endOtherSessions === true) {
        // Every other device logs in again, with the new password.
        const others = (await signedJson<{ sessions: SessionInfo[] }>('/sessions/list')).sessions.filter((s) => !s.current);
        for (const other of others) await signedJson('/sessions/revoke', { sessionId: other.sessionId });
      }
    },

    /**
     * Extends the session without the password: a new token for the same
     * key, living the server's session time from now, up to its maximum from
     * the login (then `AuthError` `ERR_AUTH_REAUTHENTICATE`: log in again).
     */
    async refresh(): Promise<{ expiresAt: number }> {
      const next = await signedJson<{ sessionId: string; token: string; expiresAt: number }>('/sessions/refresh');
      // biome-ignore lint/style/noNonNullAssertion: signedJson refused the call if there were no session
      const current = session!;
      const key = current.popKey.exportBytes();
      try {
        const popKey = PopKey.fromBytes(key, next.sessionId, { bearer: next.token });
        current.popKey.dispose();
        session = { ...current, popKey, expiresAt: next.expiresAt };
      } finally {
        key.fill(0);
      }
      return { expiresAt: next.expiresAt };
    },

    /** The user's live sessions (created, last seen, expiry, address, user agent), the current one marked. */
    async listSessions(): Promise<SessionInfo[]> {
      return (await signedJson<{ sessions: SessionInfo[] }>('/sessions/list')).sessions;
    },

    /** Revokes one of the user's sessions (another device's, from `listSessions`). */
    async revokeSession(sessionId: string): Promise<void> {
      if (typeof sessionId !== 'string') throw new InvalidArgumentError('sessionId must be a string');
      await signedJson('/sessions/revoke', { sessionId });
    },

    /** Logs out everywhere: every session of the user, this one included. */
    async logoutEverywhere(): Promise<void> {
      await signedJson('/sessions/revoke-all');
      forget();
    },

    /**
     * Deletes the account: logs in again with the current password (the
     * server wants a fresh session), then deletes; every session ends.
     */
    async deleteAccount(currentPassword: string): Promise<void> {
      if (session === undefined) throw new PopError('not logged in', 'ERR_POP_NO_SESSION');
      await this.login(session.username, currentPassword);
      await signedJson('/account/delete');
      forget();
    },

    /** Revokes the session on the server and forgets its key; does nothing when not logged in. */
    async logout(): Promise<void> {
      if (session === undefined) return;
      const response = await signed(authBase, '/logout', { method: 'POST' });
      session.popKey.dispose();
      session = undefined;
      if (!response.ok) throw await failure(response);
    },

    /** True between a successful `login` and `logout`. */
    get loggedIn(): boolean {
      return session !== undefined;
    },

    /** @internal For demonstrations of what a thief holds: the bearer token, without the key. */
    get bearerToken(): string | undefined {
      return session?.popKey.bearer;
    },
  };
}

export type KeywardClient = ReturnType<typeof createClient>;

export type { SessionInfo } from './shared';

/** A method as fetch sends it: DELETE, GET, HEAD, OPTIONS, POST and PUT in upper case, any other as given. */
function normalizeMethod(method: string): string {
  return /^(delete|get|head|options|post|put)$/i.test(method) ? method.toUpperCase() : method;
}
