/**
 * `keyward/web`: the browser client. An ES module with no native code and no
 * Node built-ins: OPAQUE through `@serenity-kit/opaque` (a peer dependency,
 * loaded on first use) and proof of possession through WebCrypto.
 *
 * ```ts
 * import { createWebClient } from 'keyward/web';
 * const api = createWebClient({ baseUrl: 'https://api.example/v1', authBaseUrl: 'https://api.example/auth', persist: true });
 * if (!(await api.restore())) await api.login('alice', 'correct horse');
 * const res = await api.fetch('/me');
 * ```
 * The same surface as `keyward/client`: `register`, `login`, a signed
 * `fetch`, `logout`. The session's key is a non-extractable `CryptoKey`;
 * with `persist` it is kept in IndexedDB so that a reload does not log the
 * user out, and `logout` deletes it. The server must use the default suite,
 * `ristretto255_sha512` (the one `@serenity-kit/opaque` speaks).
 */

import type * as Serenity from '@serenity-kit/opaque';
import { baseArg, failure, type SessionInfo, staleServerTime, usernameArg } from '../client/shared';
import { InvalidArgumentError, InvalidLoginError, PopError } from '../errors';
import { decode, encode } from './base64url';
import { SessionStore, type StoredSession } from './persist';
import { derivePopKey, signHeaders, signRfc9421Headers } from './pop';

/** Argon2id costs; must match what the user registered with. */
export type WebKeyStretching = 'memory-constrained' | 'rfc-recommended' | { 'argon2id-custom': { iterations: number; memory: number; parallelism: number } };

/** Options of `createWebClient`. */
export interface WebClientOptions {
  /** The API's base URL; may include a path, which every `fetch` path goes under. */
  baseUrl: string;
  /** Where keyward's auth routes are mounted; `baseUrl` by default. */
  authBaseUrl?: string;
  /** The server's OPAQUE public key (base64url or bytes); a server with another key is refused. */
  serverPublicKey?: string | Uint8Array;
  /** `memory-constrained` by default, as on the server. */
  keyStretching?: WebKeyStretching;
  /** Keep the session in IndexedDB across reloads (`true`: database `keyward`); off by default. */
  persist?: boolean | { database: string };
  /** The `fetch` to use; `globalThis.fetch` by default. */
  fetch?: typeof globalThis.fetch;
  /** How to load `@serenity-kit/opaque`; a dynamic `import()` of it by default. */
  loadOpaque?: () => Promise<typeof Serenity>;
  /**
   * How requests are signed: `'keyward'` (`X-TS`/`X-NONCE`/`X-POP`, the default) or `'rfc9421'`
   * (HTTP Message Signatures over `@method`, `@target-uri` and, with a body, `content-digest`;
   * docs/pop.md "RFC 9421 profile").
   */
  signature?: 'keyward' | 'rfc9421';
}

const utf8 = new TextEncoder();

/** The body as the bytes that will be sent: a string's UTF-8, or the bytes themselves. */
function bodyArg(body: BodyInit | null | undefined): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return utf8.encode(body);
  if (body instanceof Uint8Array) return body;
  throw new InvalidArgumentError('a signed request body must be a string or a Uint8Array');
}

/**
 * A browser client for one keyward server. A `baseUrl` or `authBaseUrl` that
 * is not an http(s) URL without query, fragment or credentials throws
 * `InvalidArgumentError`. Server refusals reject with the server's
 * `AuthError`/`PopError` code; a wrong password or unknown user with
 * `InvalidLoginError`.
 */
export function createWebClient(options: WebClientOptions) {
  const base = baseArg(options?.baseUrl, 'baseUrl');
  const authBase = options.authBaseUrl === undefined ? base : baseArg(options.authBaseUrl, 'authBaseUrl');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const keyStretching = options.keyStretching ?? 'memory-constrained';
  const form = options.signature ?? 'keyward';
  if (form !== 'keyward' && form !== 'rfc9421') throw new InvalidArgumentError("signature must be 'keyward' or 'rfc9421'");
  const expectedServerKey =
    typeof options.serverPublicKey === 'string' || options.serverPublicKey === undefined ? options.serverPublicKey : encode(options.serverPublicKey);
  const persist = options.persist ?? false;
  const store = persist === false ? undefined : new SessionStore(persist === true ? 'keyward' : persist.database, authBase);
  const loadOpaque = options.loadOpaque ?? (() => import('@serenity-kit/opaque'));
  let opaque: Promise<typeof Serenity> | undefined;
  // The session id is the RFC 9421 keyid; a session saved before it was kept has none.
  let session: (StoredSession & { sessionId?: string }) | undefined;
  // Milliseconds to add to this machine's clock, learnt from a refusal as stale.
  let clockOffset = 0;

  async function serenity(): Promise<typeof Serenity> {
    opaque ??= loadOpaque().then(async (m) => {
      await m.ready;
      return m;
    });
    return opaque;
  }

  async function post<T>(path: string, body: object): Promise<T> {
    const response = await doFetch(`${authBase}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw await failure(response);
    return (await response.json()) as T;
  }

  function checkServerKey(serverStaticPublicKey: string): void {
    if (expectedServerKey !== undefined && serverStaticPublicKey !== expectedServerKey) {
      throw new InvalidLoginError('the server answered with another OPAQUE public key than serverPublicKey');
    }
  }

  async function send(root: string, path: string, init: RequestInit, retried: boolean): Promise<Response> {
    if (session === undefined) throw new PopError('not logged in', 'ERR_POP_NO_SESSION');
    const url = new URL(`${root}${path}`);
    const body = bodyArg(init.body);
    // fetch upper-cases these six and sends others as given (Fetch, "normalize a method"): sign what goes out.
    const method = normalizeMethod(init.method ?? 'GET');
    const timestamp = Date.now() + clockOffset;
    let pop: Record<string, string>;
    if (form === 'rfc9421') {
      if (session.sessionId === undefined) throw new PopError('this restored session has no session id to sign with: log in again', 'ERR_POP_NO_SESSION');
      pop = await signRfc9421Headers({ key: session.key, bearer: session.bearer, keyId: session.sessionId, method, url, body, timestamp });
    } else {
      pop = await signHeaders({ key: session.key, bearer: session.bearer, method, target: `${url.pathname}${url.search}`, body, timestamp });
    }
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(pop)) headers.set(name, value);
    if (body.length > 0 && !headers.has('content-type'))
      headers.set('content-type', typeof init.body === 'string' ? 'application/json' : 'application/octet-stream');
    const response = await doFetch(url.href, { ...init, method, headers, body: init.body ?? undefined });
    if (retried) return response;
    // A refusal as stale carries the server's time: measure the skew once and sign again.
    const serverTime = await staleServerTime(response);
    if (serverTime === undefined) return response;
    clockOffset = serverTime - Date.now();
    return send(root, path, init, true);
  }

  /**
   * A request signed with the session's key, to `baseUrl` + `path` (`/path?query`).
   * Bodies must be strings or bytes (they are signed as sent); a string goes
   * as JSON and bytes as `application/octet-stream` unless `content-type` is set.
   * A request refused as stale (this machine's clock is off by more than the
   * server's window) is signed again once with the server's time.
   */
  async function signedFetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new InvalidArgumentError('path must start with /');
    if (path.includes('#')) throw new InvalidArgumentError('path must not have a fragment');
    return send(base, path, init, false);
  }

  async function forget() {
    session = undefined;
    await store?.remove();
  }

  /** A signed JSON POST to one of keyward's own routes; a refusal rejects with its code. */
  async function signedJson<T>(path: string, body?: object): Promise<T> {
    const response = await send(authBase, path, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) }, false);
    if (!response.ok) throw await failure(response);
    return (await response.json()) as T;
  }

  return {
    /** Registers a new user; a taken name rejects with `AuthError` `ERR_AUTH_USER_EXISTS`. */
    async register(username: string, password: string): Promise<void> {
      usernameArg(username);
      const { client } = await serenity();
      const start = client.startRegistration({ password });
      const { response } = await post<{ response: string }>('/register/start', { username, request: start.registrationRequest });
      const done = client.finishRegistration({
        clientRegistrationState: start.clientRegistrationState,
        registrationResponse: response,
        password,
        keyStretching,
      });
      checkServerKey(done.serverStaticPublicKey);
      await post('/register/finish', { username, upload: done.registrationRecord });
    },

    /**
     * Sets a new password with a reset grant the application sent (from the
     * server's `createResetGrant`, usually in a link); no login needed. Every
     * session of the user ends. A used, expired or altered grant rejects with
     * `AuthError` `ERR_AUTH_RESET_GRANT`.
     */
    async resetPassword(grant: string, newPassword: string): Promise<void> {
      if (typeof grant !== 'string') throw new InvalidArgumentError('grant must be a string');
      const { client } = await serenity();
      const start = client.startRegistration({ password: newPassword });
      const { response } = await post<{ response: string }>('/reset/start', { grant, request: start.registrationRequest });
      const done = client.finishRegistration({
        clientRegistrationState: start.clientRegistrationState,
        registrationResponse: response,
        password: newPassword,
        keyStretching,
      });
      checkServerKey(done.serverStaticPublicKey);
      await post('/reset/finish', { grant, upload: done.registrationRecord });
    },

    /** Throws `InvalidLoginError` for a wrong password or unknown user (the server cannot tell them apart). */
    async login(username: string, password: string): Promise<{ expiresAt: number }> {
      usernameArg(username);
      const { client } = await serenity();
      const start = client.startLogin({ password });
      const started = await post<{ response: string; loginState: string }>('/login/start', { username, request: start.startLoginRequest });
      const done = client.finishLogin({ clientLoginState: start.clientLoginState, loginResponse: started.response, password, keyStretching });
      if (done === undefined) throw new InvalidLoginError();
      checkServerKey(done.serverStaticPublicKey);
      const finished = await post<{ sessionId: string; token: string; expiresAt: number }>('/login/finish', {
        loginState: started.loginState,
        finalization: done.finishLoginRequest,
      });
      const sessionKey = decode(done.sessionKey);
      const key = await derivePopKey(sessionKey, finished.sessionId);
      sessionKey.fill(0);
      const saved: StoredSession = { key, bearer: finished.token, username, expiresAt: finished.expiresAt };
      session = { ...saved, sessionId: finished.sessionId };
      // The id is kept in IndexedDB only when the RFC 9421 form needs it (as keyid) after a reload.
      await store?.save(form === 'rfc9421' ? session : saved);
      return { expiresAt: finished.expiresAt };
    },

    /**
     * With `persist`: picks up the session a previous page saved, unless it
     * has expired. Resolves to the username and expiry, or undefined.
     */
    async restore(): Promise<{ username: string; expiresAt: number } | undefined> {
      const saved = await store?.load();
      if (saved === undefined) return undefined;
      if (saved.expiresAt <= Date.now() + clockOffset) {
        await store?.remove();
        return undefined;
      }
      session = saved;
      return { username: saved.username, expiresAt: saved.expiresAt };
    },

    fetch: signedFetch,

    /**
     * Changes the logged-in user's password: logs in again with the current
     * one (the server wants a fresh session for this), then registers the new
     * one over signed requests; `endOtherSessions` then revokes every other
     * session of the user. A wrong current password rejects with
     * `InvalidLoginError` and changes nothing.
     */
    async changePassword(currentPassword: string, newPassword: string, changeOptions?: { endOtherSessions?: boolean }): Promise<void> {
      if (session === undefined) throw new PopError('not logged in', 'ERR_POP_NO_SESSION');
      await this.login(session.username, currentPassword);
      const { client } = await serenity();
      const start = client.startRegistration({ password: newPassword });
      const started = await signedJson<{ response: string }>('/password/start', { request: start.registrationRequest });
      const done = client.finishRegistration({
        clientRegistrationState: start.clientRegistrationState,
        registrationResponse: started.response,
        password: newPassword,
        keyStretching,
      });
      checkServerKey(done.serverStaticPublicKey);
      await signedJson('/password/finish', { upload: done.registrationRecord });
      if (changeOptions?.endOtherSessions === true) {
        // Every other device logs in again, with the new password.
        const others = (await signedJson<{ sessions: SessionInfo[] }>('/sessions/list')).sessions.filter((s) => !s.current);
        for (const other of others) await signedJson('/sessions/revoke', { sessionId: other.sessionId });
      }
    },

    /**
     * Extends the session without the password: a new token for the same
     * key (kept in IndexedDB with `persist`), living the server's session
     * time from now, up to its maximum from the login (then `AuthError`
     * `ERR_AUTH_REAUTHENTICATE`: log in again).
     */
    async refresh(): Promise<{ expiresAt: number }> {
      const next = await signedJson<{ token: string; expiresAt: number }>('/sessions/refresh');
      if (session !== undefined) {
        session = { ...session, bearer: next.token, expiresAt: next.expiresAt };
        await store?.save(session);
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

    /** Logs out everywhere: every session of the user, this one included (and IndexedDB's record). */
    async logoutEverywhere(): Promise<void> {
      await signedJson('/sessions/revoke-all');
      await forget();
    },

    /** Deletes the account: logs in again with the current password (the server wants a fresh session), then deletes. */
    async deleteAccount(currentPassword: string): Promise<void> {
      if (session === undefined) throw new PopError('not logged in', 'ERR_POP_NO_SESSION');
      await this.login(session.username, currentPassword);
      await signedJson('/account/delete');
      await forget();
    },

    /** Revokes the session on the server and forgets its key (in IndexedDB too); does nothing when not logged in. */
    async logout(): Promise<void> {
      if (session === undefined) return;
      const response = await send(authBase, '/logout', { method: 'POST' }, false);
      session = undefined;
      await store?.remove();
      if (!response.ok) throw await failure(response);
    },

    /** True between a successful `login` (or `restore`) and `logout`. */
    get loggedIn(): boolean {
      return session !== undefined;
    },

    /** The logged-in user's name. */
    get username(): string | undefined {
      return session?.username;
    },

    /** @internal For demonstrations of what a thief holds: the bearer token, without the key. */
    get bearerToken(): string | undefined {
      return session?.bearer;
    },
  };
}

export type KeywardWebClient = ReturnType<typeof createWebClient>;
export type { SessionInfo } from '../client/shared';
export { AuthError, InvalidArgumentError, InvalidLoginError, KeywardError, PopError } from '../errors';

/** A method as fetch sends it: DELETE, GET, HEAD, OPTIONS, POST and PUT in upper case, any other as given. */
function normalizeMethod(method: string): string {
  return /^(delete|get|head|options|post|put)$/i.test(method) ? method.toUpperCase() : method;
}
