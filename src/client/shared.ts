/**
 * What `keyward/client` and `keyward/web` share: argument checks, the reading
 * of a server's refusal, and every call of the client (`createClientCore`),
 * each client giving only what differs: how it runs OPAQUE, how it signs a
 * request and where it keeps the session's key. No Node built-ins (only
 * fetch, URL and TextEncoder-level APIs): the browser bundle uses it.
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

/** The two signature forms (docs/pop.md): `keyward` headers or RFC 9421 HTTP Message Signatures. */
export type SignatureForm = 'keyward' | 'rfc9421';

/** `options.signature`: `'keyward'` by default. */
export function signatureArg(value: unknown): SignatureForm {
  const form = value ?? 'keyward';
  if (form !== 'keyward' && form !== 'rfc9421') throw new InvalidArgumentError("signature must be 'keyward' or 'rfc9421'");
  return form;
}

/** A method as fetch sends it: DELETE, GET, HEAD, OPTIONS, POST and PUT in upper case, any other as given. */
export function normalizeMethod(method: string): string {
  return /^(delete|get|head|options|post|put)$/i.test(method) ? method.toUpperCase() : method;
}

/** What `/login/finish` and `/sessions/refresh` answer. */
export interface IssuedSession {
  sessionId: string;
  token: string;
  expiresAt: number;
}

/** A logged-in session as a client holds it; each client adds its key in its own form. */
export interface HeldSession {
  username: string;
  expiresAt: number;
}

/** One request to sign, as it will be sent: `url` is what fetch sends, `body` the bytes or string it carries. */
export interface RequestToSign {
  method: string;
  url: URL;
  body: string | Uint8Array | undefined;
  /** ms since the epoch, this machine's clock corrected by what a stale refusal taught. */
  timestamp: number;
}

/** One OPAQUE exchange begun: the message for the server, and what to do with its answer (base64url both ways). */
export interface OpaqueStart<T> {
  request: string;
  finish(response: string): Promise<T>;
}

/** What differs between the clients: everything `createClientCore` does not do itself. */
export interface ClientParts<S extends HeldSession> {
  /** The checked base URLs (`baseArg`): the API's, and where keyward's routes are mounted. */
  base: string;
  authBase: string;
  /** The `fetch` to use; `globalThis.fetch` by default. */
  fetch?: typeof globalThis.fetch;
  /** The client's OPAQUE: a registration's upload, or a login's finalization and session key (wiped after `open`). */
  opaque: {
    startRegistration(password: string): Promise<OpaqueStart<string>>;
    startLogin(password: string): Promise<OpaqueStart<{ finalization: string; sessionKey: Uint8Array }>>;
  };
  /** The session a login made: its proof-of-possession key derived from `sessionKey`, kept wherever the client keeps it. */
  open(sessionKey: Uint8Array, issued: IssuedSession, username: string): Promise<S>;
  /** The session with the token a refresh issued: the same key. */
  renew(current: S, issued: IssuedSession): Promise<S>;
  /** Releases a session's key held in memory (a session ended, or replaced by a new login). */
  dispose?(session: S): void;
  /** Deletes what was kept of the session beyond memory (a session ended). */
  forget?(): Promise<void>;
  /** The proof-of-possession headers of one request. */
  sign(session: S, request: RequestToSign): Promise<Record<string, string | undefined>>;
  /** The session's bearer token. */
  bearer(session: S): string;
}

/** What a client adds to the core (`restore`, say) reaches the session and the corrected clock through this. */
export interface ClientCore<S extends HeldSession> {
  session: S | undefined;
  /** Date.now(), corrected by the offset a stale refusal taught. */
  now(): number;
}

/** A request body signed as sent: a string or bytes; anything else is refused rather than signed as something else. */
function bodyArg(body: BodyInit | null | undefined): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  throw new InvalidArgumentError('a signed request body must be a string or a Uint8Array');
}

/**
 * The calls of a keyward client, over the `parts` that differ between
 * `keyward/client` and `keyward/web`; `extend` adds a client's own members
 * (its getters stay getters). Server refusals reject with the server's
 * `AuthError`/`PopError` code; a call that needs a session rejects with
 * `PopError` `ERR_POP_NO_SESSION` without one.
 */
export function createClientCore<S extends HeldSession, E extends object = Record<never, never>>(parts: ClientParts<S>, extend?: (core: ClientCore<S>) => E) {
  const { base, authBase, opaque } = parts;
  const doFetch = parts.fetch ?? globalThis.fetch.bind(globalThis);
  let session: S | undefined;
  // Milliseconds to add to this machine's clock, learnt from a refusal as stale.
  let clockOffset = 0;

  function current(): S {
    if (session === undefined) throw new PopError('not logged in', 'ERR_POP_NO_SESSION');
    return session;
  }

  /** An unsigned JSON POST to one of keyward's own routes; a refusal rejects with its code. */
  async function post<T>(path: string, body: object): Promise<T> {
    const response = await doFetch(`${authBase}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw await failure(response);
    return (await response.json()) as T;
  }

  async function send(root: string, path: string, init: RequestInit, retried = false): Promise<Response> {
    const held = current();
    const body = bodyArg(init.body);
    // fetch upper-cases these six and sends others as given (Fetch, "normalize a method"): sign what goes out.
    const method = normalizeMethod(init.method ?? 'GET');
    // The URL fetch will send, parsed as fetch parses it: its path and query are the request line's target.
    const url = new URL(`${root}${path}`);
    const pop = await parts.sign(held, { method, url, body, timestamp: Date.now() + clockOffset });
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(pop)) if (value !== undefined) headers.set(name, value);
    if (body !== undefined && body.length > 0 && !headers.has('content-type')) {
      headers.set('content-type', typeof body === 'string' ? 'application/json' : 'application/octet-stream');
    }
    const response = await doFetch(url.href, { ...init, method, headers, body: body as BodyInit | undefined });
    if (retried) return response;
    // A refusal as stale carries the server's time: measure the skew once and sign again.
    const serverTime = await staleServerTime(response);
    if (serverTime === undefined) return response;
    clockOffset = serverTime - Date.now();
    return send(root, path, init, true);
  }

  /** A signed JSON POST to one of keyward's own routes; a refusal rejects with its code. */
  async function signedJson<T>(path: string, body?: object): Promise<T> {
    const response = await send(authBase, path, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) throw await failure(response);
    return (await response.json()) as T;
  }

  /** Registers `password` at `/<route>/start` and `/<route>/finish`, signed or not, with `fields` in both bodies. */
  async function registerAt(route: string, password: string, fields: object, signed: boolean): Promise<void> {
    const start = await opaque.startRegistration(password);
    const call = signed ? signedJson : post;
    const { response } = await call<{ response: string }>(`/${route}/start`, { ...fields, request: start.request });
    const upload = await start.finish(response);
    await call(`/${route}/finish`, { ...fields, upload });
  }

  /** Ends the session here: its key released and its saved copy deleted. */
  async function forget(): Promise<void> {
    if (session !== undefined) parts.dispose?.(session);
    session = undefined;
    await parts.forget?.();
  }

  async function login(username: string, password: string): Promise<{ expiresAt: number }> {
    usernameArg(username);
    const start = await opaque.startLogin(password);
    const started = await post<{ response: string; loginState: string }>('/login/start', { username, request: start.request });
    const done = await start.finish(started.response);
    try {
      const finished = await post<IssuedSession>('/login/finish', { loginState: started.loginState, finalization: done.finalization });
      const previous = session;
      session = await parts.open(done.sessionKey, finished, username);
      if (previous !== undefined) parts.dispose?.(previous);
      return { expiresAt: finished.expiresAt };
    } finally {
      done.sessionKey.fill(0);
    }
  }

  const core: ClientCore<S> = {
    get session() {
      return session;
    },
    set session(next) {
      session = next;
    },
    now: () => Date.now() + clockOffset,
  };

  const client = {
    /** Registers a new user; a taken name rejects with `AuthError` `ERR_AUTH_USER_EXISTS`. */
    async register(username: string, password: string): Promise<void> {
      usernameArg(username);
      await registerAt('register', password, { username }, false);
    },

    /**
     * Sets a new password with a reset grant the application sent (from the
     * server's `createResetGrant`, usually in a link); no login needed. Every
     * session of the user ends. A used, expired or altered grant rejects with
     * `AuthError` `ERR_AUTH_RESET_GRANT`.
     */
    async resetPassword(grant: string, newPassword: string): Promise<void> {
      if (typeof grant !== 'string') throw new InvalidArgumentError('grant must be a string');
      await registerAt('reset', newPassword, { grant }, false);
    },

    /** Throws `InvalidLoginError` for a wrong password or unknown user (the server cannot tell them apart). */
    login,

    /**
     * A request signed with the session's key, to `baseUrl` + `path` (`/path?query`).
     * Bodies must be strings or bytes (they are signed as sent); a string goes
     * as JSON and bytes as `application/octet-stream` unless `content-type` is set.
     * A request refused as stale (this machine's clock is off by more than the
     * server's window) is signed again once with the server's time.
     */
    async fetch(path: string, init: RequestInit = {}): Promise<Response> {
      if (typeof path !== 'string' || !path.startsWith('/')) throw new InvalidArgumentError('path must start with /');
      if (path.includes('#')) throw new InvalidArgumentError('path must not have a fragment');
      return send(base, path, init);
    },

    /**
     * Changes the logged-in user's password: logs in again with the current
     * one (the server wants a fresh session for this), then registers the new
     * one over signed requests; `endOtherSessions` then revokes every other
     * session of the user. A wrong current password rejects with
     * `InvalidLoginError` and changes nothing; the session stays logged in.
     */
    async changePassword(currentPassword: string, newPassword: string, changeOptions?: { endOtherSessions?: boolean }): Promise<void> {
      await login(current().username, currentPassword);
      await registerAt('password', newPassword, {}, true);
      if (changeOptions?.endOtherSessions === true) {
        // Every other device logs in again, with the new password.
        const others = (await signedJson<{ sessions: SessionInfo[] }>('/sessions/list')).sessions.filter((s) => !s.current);
        for (const other of others) await signedJson('/sessions/revoke', { sessionId: other.sessionId });
      }
    },

    /**
     * Extends the session without the password: a new token for the same
     * key (kept in IndexedDB with keyward/web's `persist`), living the
     * server's session time from now, up to its maximum from the login (then
     * `AuthError` `ERR_AUTH_REAUTHENTICATE`: log in again).
     */
    async refresh(): Promise<{ expiresAt: number }> {
      const next = await signedJson<IssuedSession>('/sessions/refresh');
      if (session !== undefined) session = await parts.renew(session, next);
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

    /** Logs out everywhere: every session of the user, this one included (and its saved copy, with `persist`). */
    async logoutEverywhere(): Promise<void> {
      await signedJson('/sessions/revoke-all');
      await forget();
    },

    /**
     * Deletes the account: logs in again with the current password (the
     * server wants a fresh session), then deletes; every session ends.
     */
    async deleteAccount(currentPassword: string): Promise<void> {
      await login(current().username, currentPassword);
      await signedJson('/account/delete');
      await forget();
    },

    /** Revokes the session on the server and forgets its key (and its saved copy); does nothing when not logged in. */
    async logout(): Promise<void> {
      if (session === undefined) return;
      const response = await send(authBase, '/logout', { method: 'POST' });
      await forget();
      if (!response.ok) throw await failure(response);
    },

    /** True between a successful `login` (or keyward/web's `restore`) and `logout`. */
    get loggedIn(): boolean {
      return session !== undefined;
    },

    /** @internal For demonstrations of what a thief holds: the bearer token, without the key. */
    get bearerToken(): string | undefined {
      return session === undefined ? undefined : parts.bearer(session);
    },
  };
  // Descriptors, not a spread: a spread would read the getters once instead of copying them.
  return Object.defineProperties(client, Object.getOwnPropertyDescriptors(extend?.(core) ?? {})) as typeof client & E;
}
