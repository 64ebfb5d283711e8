/**
 * The framework-agnostic auth service: OPAQUE registration and login whose
 * session key becomes a proof-of-possession key (docs/pop.md). The Fastify
 * and Express adapters are thin layers over it.
 *
 * Stateless by design: the login state between start and finish, and the
 * session itself, travel as sealed, expiring tokens (XChaCha20-Poly1305
 * under keys derived from `sealKey`), so any instance that shares
 * `serverSetup`, `sealKey` and the store can finish a login or verify a
 * request another instance started. The server keeps password files, rate
 * counters, used nonces and revocations; never a password, a password hash
 * or a session key.
 */
import { randomBytes } from 'node:crypto';
import { decodeBase64Url, encodeBase64Url } from '../bytes';
import { AuthError, DecryptionError, InvalidArgumentError, KeywardError, TimestampExpiredError } from '../errors';
import { ServerLoginState, ServerRegistration, type ServerSetup } from '../opaque/objects';
import { OpaqueServer } from '../opaque/server';
import { derivePopKey, PopKey } from '../pop/key';
import { PopVerifier, type PopVerifierOptions, type RequestToVerify } from '../pop/verifier';
import { makeToken, openJson, readToken, sealJson } from '../seal/box';
import { SecretKey } from '../seal/key';
import { AuthEventEmitter, type AuthEventName, type AuthEvents, type AuthHooks } from './events';
import { createRateLimits, type RateLimitOptions } from './rate-limits';
import { AuthSession, decodeClaims, encodeClaims } from './session';
import type { AuthStore } from './store';
import { usernameArg } from './username';

export type { AuthEventName, AuthEvents, AuthHooks } from './events';
export type { RateLimitOptions } from './rate-limits';
export { AuthSession } from './session';

/** What `createAuthService` needs; the three required objects must be the same on every instance. */
export interface AuthServiceOptions {
  /** The OPAQUE server keys (`ServerSetup.deserialize` of a stored secret). */
  serverSetup: ServerSetup;
  /** Where password files, counters, nonces and revocations live. */
  store: AuthStore;
  /** Seals login states and session tokens. Every instance must use the same one. */
  sealKey: SecretKey;
  /** Session lifetime; 1 hour by default. A refresh (`POST /sessions/refresh`) extends it by as much again. */
  sessionTtlMs?: number;
  /** The most a session lives from its login, refreshes included; 30 days by default. Then the user logs in again. */
  maxSessionMs?: number;
  /** Time allowed between login start and finish; 60 s by default. */
  loginTtlMs?: number;
  /** Limits on failed logins and registration starts (src/auth/rate-limits.ts, docs/threat-model.md). */
  rateLimit?: RateLimitOptions;
  /** `false` refuses `/register/start` and `/register/finish` with 403 `ERR_AUTH_REGISTRATION_DISABLED`; `true` by default. */
  allowRegistration?: boolean;
  /** PoP timestamp window; 30 s by default. */
  popWindowMs?: number;
  /**
   * How recent a session must be to change its user's password: the client
   * logs in again with the current password first, so that a stolen live
   * session cannot lock its owner out. 5 minutes by default.
   */
  passwordChangeWindowMs?: number;
  /**
   * The signed-request forms accepted: `'keyward'` (`X-TS`/`X-NONCE`/`X-POP`) and `'rfc9421'`
   * (HTTP Message Signatures, docs/pop.md); both by default. `['rfc9421']` turns the old form off.
   */
  popForms?: PopVerifierOptions<AuthSession>['forms'];
  /** The origin clients address this server by, for RFC 9421 `@target-uri` signatures (see `PopVerifierOptions.origin`). */
  popOrigin?: PopVerifierOptions<AuthSession>['origin'];
  /** Time source for tokens and PoP, ms since the epoch; `Date.now` by default (rate limiters keep real time). */
  clock?: () => number;
  /** Hooks that take part in requests (`beforeRegister` may veto a registration). */
  hooks?: AuthHooks;
  /** Where what an event listener throws goes; a process warning (`KeywardEventWarning`) by default. */
  onEventError?: (error: unknown, event: AuthEventName) => void;
}

/**
 * Who is asking: the client's address as the HTTP framework reports it
 * (`request.ip`). Behind a proxy, the framework's trust-proxy setting decides
 * whether that is the proxy or the client (docs/threat-model.md).
 */
export interface RequestContext {
  address?: string;
  /** The request's User-Agent, kept (at most 256 characters) with the session a login opens. */
  userAgent?: string;
}

/** The context argument: `{ address }`, or the address alone (the form the adapters first used). */
function addressOf(context: RequestContext | string | undefined): string | undefined {
  if (context !== undefined && typeof context !== 'string' && (typeof context !== 'object' || context === null)) {
    throw new InvalidArgumentError('context must be { address } or an address string');
  }
  const address = typeof context === 'string' || context === undefined ? context : context.address;
  if (address !== undefined && (typeof address !== 'string' || address.length > 256)) {
    throw new InvalidArgumentError('context.address must be a string of at most 256 characters');
  }
  return address;
}

/** Binds session tokens to their format (src/auth/session.ts); v1 was JSON claims, v2 had no login time. */
const SESSION_AAD = 'keyward session v3';

/** Characters of a session token that key the cache of opened tokens: its last 16 bytes or so, the tag. */
const TOKEN_TAIL = 22;

const username = usernameArg;

/** A request body must be an object (the adapters hand over parsed JSON); anything else is a 400. */
function bodyArg(body: unknown): void {
  if (typeof body !== 'object' || body === null) throw new AuthError('the request body must be a JSON object', 'ERR_AUTH_BAD_REQUEST');
}

/** The longest base64url protocol message a request field may hold, in characters (the HTTP routes check it too). */
export const MESSAGE_MAX_CHARS = 8192;

function message(value: unknown, what: string): Uint8Array {
  try {
    if (typeof value !== 'string' || value.length > MESSAGE_MAX_CHARS) throw new Error();
    return decodeBase64Url(value);
  } catch {
    throw new AuthError(`${what} must be a base64url string`, 'ERR_AUTH_BAD_REQUEST');
  }
}

/** OPAQUE's own refusals (a malformed message, a wrong password) become one login failure. */
async function asLoginFailure<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof KeywardError && !(error instanceof AuthError)) {
      throw new AuthError('the login could not be verified', 'ERR_AUTH_LOGIN_FAILED');
    }
    throw error;
  }
}

/**
 * The auth service: OPAQUE registration and login over HTTP-shaped calls, whose
 * answers are `AuthError`s with an HTTP `status`, and `verify` for signed requests.
 * Mount it with `keyward/fastify` or `keyward/express`.
 */
export function createAuthService(options: AuthServiceOptions) {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
  const { serverSetup, store } = options;
  if (!(options.sealKey instanceof SecretKey)) throw new InvalidArgumentError('options.sealKey must be a SecretKey');
  if (typeof store !== 'object' || store === null || typeof store.getPasswordFile !== 'function' || typeof store.limiter !== 'function') {
    throw new InvalidArgumentError('options.store must be an AuthStore');
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new InvalidArgumentError('options.clock must be a function');
  for (const name of ['sessionTtlMs', 'loginTtlMs', 'passwordChangeWindowMs', 'maxSessionMs'] as const) {
    const ms = options[name];
    if (ms !== undefined && (!Number.isSafeInteger(ms) || ms <= 0)) throw new InvalidArgumentError(`options.${name} must be whole ms > 0`);
  }
  const opaque = new OpaqueServer(serverSetup);
  const clock = options.clock ?? Date.now;
  const sessionTtl = options.sessionTtlMs ?? 3_600_000;
  const loginTtl = options.loginTtlMs ?? 60_000;
  const limits = createRateLimits(store, options.rateLimit);
  const allowRegistration = options.allowRegistration ?? true;
  const loginKey = options.sealKey.derive('keyward auth', 'login state');
  const sessionKey = options.sealKey.derive('keyward auth', 'session');
  const resetKey = options.sealKey.derive('keyward auth', 'reset grant');
  const RESET_AAD = 'keyward reset grant v1';
  const sealOptions = (aad: string) => ({ aad, clock });
  const passwordChangeWindow = options.passwordChangeWindowMs ?? 300_000;
  const maxSession = options.maxSessionMs ?? 30 * 24 * 3_600_000;

  // A refresh can carry a session to maxSession from its login, so a revocation lasts that long.
  const revokeUntil = (session: { createdAt: number }) => session.createdAt + maxSession;

  /** A sealed session token for these claims. */
  function sessionToken(id: Uint8Array, popKey: PopKey, expiresAt: number, createdAt: number, user: string): string {
    const plain = encodeClaims({ sessionId: id, popKey: popKey.exportBytes(), expiresAt, createdAt, username: user });
    try {
      return makeToken(sessionKey, plain, sealOptions(SESSION_AAD));
    } finally {
      plain.fill(0);
    }
  }
  const hooks = options.hooks ?? {};
  if (typeof hooks !== 'object' || (hooks.beforeRegister !== undefined && typeof hooks.beforeRegister !== 'function')) {
    throw new InvalidArgumentError('options.hooks.beforeRegister must be a function');
  }
  if (options.onEventError !== undefined && typeof options.onEventError !== 'function')
    throw new InvalidArgumentError('options.onEventError must be a function');
  const events = new AuthEventEmitter(options.onEventError);

  function registrationOpen() {
    if (!allowRegistration) throw new AuthError('registration is disabled on this server', 'ERR_AUTH_REGISTRATION_DISABLED');
  }

  async function registrationAllowed(user: string, address: string | undefined) {
    if (hooks.beforeRegister !== undefined && (await hooks.beforeRegister({ username: user, address })) === false) {
      throw new AuthError('this registration was refused', 'ERR_AUTH_REGISTRATION_REFUSED');
    }
  }

  function sessionArg(session: unknown): AuthSession {
    if (!(session instanceof AuthSession)) throw new InvalidArgumentError('session must be an AuthSession (from verify)');
    return session;
  }

  /** The store's session bookkeeping, or 501 for a store without it. */
  function accounts() {
    const { recordSession, listSessions, deleteUser } = store;
    if (typeof recordSession !== 'function' || typeof listSessions !== 'function' || typeof deleteUser !== 'function') {
      throw new AuthError('this store keeps no session records (recordSession, listSessions, deleteUser)', 'ERR_AUTH_UNSUPPORTED');
    }
    return { list: (user: string) => listSessions.call(store, user, clock()), deleteUser: (user: string) => deleteUser.call(store, user) };
  }

  /** Revokes every listed session of `user` and `current`, each until it would have expired. */
  async function revokeAll(user: string, current: AuthSession) {
    const listed = await accounts().list(user);
    await Promise.all(listed.filter((s) => s.sessionId !== current.sessionId).map((s) => store.revoke(s.sessionId, revokeUntil(s))));
    await store.revoke(current.sessionId, revokeUntil(current));
    return listed.length;
  }

  /** A session logged in within the password-change window, of a store that can replace password files. */
  function freshSession(session: unknown, needs: 'password' | 'account'): AuthSession {
    const current = sessionArg(session);
    if (needs === 'password' && typeof store.setPasswordFile !== 'function') {
      throw new AuthError('this store cannot change passwords (no setPasswordFile)', 'ERR_AUTH_UNSUPPORTED');
    }
    if (needs === 'account') accounts();
    if (clock() - current.createdAt > passwordChangeWindow) {
      throw new AuthError('log in again with the current password first', 'ERR_AUTH_REAUTHENTICATE');
    }
    return current;
  }

  /**
   * The session's record after a refresh: its new expiry and last use, the
   * address and user agent of its login kept. One row is updated where the
   * store can (`extendSession`); a store without it has the record found
   * among the user's and written again. A session with no record yet (one
   * issued before the store kept them) is recorded, as a login would.
   */
  async function extendRecord(current: AuthSession, expiresAt: number, now: number) {
    if (typeof store.extendSession === 'function' && (await store.extendSession(current.sessionId, current.username, expiresAt, now))) return;
    if (typeof store.recordSession !== 'function') return;
    const listed = typeof store.extendSession === 'function' ? undefined : await store.listSessions?.(current.username, now);
    const record = listed?.find((s) => s.sessionId === current.sessionId);
    const { sessionId, username, createdAt } = current;
    await store.recordSession({ sessionId, username, createdAt, expiresAt, lastSeenAt: now, address: record?.address, userAgent: record?.userAgent });
  }

  /** A reset grant that opens, is ours and has not expired; 401 `ERR_AUTH_RESET_GRANT` otherwise. */
  function openGrant(value: unknown): { u: string; n: string; e: number } {
    const refused = () => new AuthError('the reset grant is invalid, expired or used', 'ERR_AUTH_RESET_GRANT');
    if (typeof value !== 'string' || value.length > MESSAGE_MAX_CHARS) throw refused();
    let grant: { u?: unknown; n?: unknown; e?: unknown };
    try {
      grant = JSON.parse(new TextDecoder().decode(readToken(resetKey, value, sealOptions(RESET_AAD))));
    } catch {
      throw refused();
    }
    if (typeof grant.u !== 'string' || typeof grant.n !== 'string' || typeof grant.e !== 'number' || grant.e <= clock()) throw refused();
    return grant as { u: string; n: string; e: number };
  }

  /** Reports a refused login as `loginFailed`, then lets the refusal go on. */
  function failedFor(user: string, address: string | undefined) {
    return (error: unknown): never => {
      if (error instanceof AuthError && (error.code === 'ERR_AUTH_LOGIN_FAILED' || error.code === 'ERR_AUTH_RATE_LIMITED')) {
        events.emit('loginFailed', { username: user, address, code: error.code });
      }
      throw error;
    };
  }

  // Opened tokens, so a session's next requests skip the unsealing; bounded, oldest out first.
  // Expiry and revocation are still checked on every request. Keyed by the
  // token's tail (the box's authentication tag): hashing a 200-character
  // token on every request costs more than the MAC check; the whole token is
  // then compared, so a forged tail is only a cache miss.
  const opened = new Map<string, { token: string; session: AuthSession; touchedAt: number }>();
  // Last-seen times reach the store at most this often per session and process.
  const TOUCH_EVERY_MS = 60_000;
  function touch(entry: { session: AuthSession; touchedAt: number }, now: number) {
    if (typeof store.touchSession !== 'function' || now - entry.touchedAt < TOUCH_EVERY_MS) return;
    entry.touchedAt = now;
    store.touchSession(entry.session.sessionId, now).catch((error: unknown) => {
      process.emitWarning(`keyward could not record a session's last use: ${error instanceof Error ? error.message : String(error)}`, 'KeywardStoreWarning');
    });
  }
  const OPENED_MAX = 10_000;
  const tail = (token: string) => token.slice(-TOKEN_TAIL);

  /** The live session a token names, or undefined; synchronous when the token was opened before. */
  function session(token: string): AuthSession | undefined | Promise<AuthSession | undefined> {
    const entry = opened.get(tail(token));
    if (entry === undefined || entry.token !== token) return openToken(token);
    const known = entry.session;
    const now = clock();
    if (known.expiresAt <= now) return undefined;
    touch(entry, now);
    const revoked = store.isRevoked(known.sessionId);
    if (typeof revoked === 'boolean') return revoked ? undefined : known;
    return revoked.then((r) => (r ? undefined : known));
  }

  /** Opens a session token; undefined for anything not a live session of ours. */
  async function openToken(token: string): Promise<AuthSession | undefined> {
    let plain: Uint8Array;
    try {
      plain = readToken(sessionKey, token, sealOptions(SESSION_AAD));
    } catch (error) {
      if (error instanceof KeywardError) return undefined;
      throw error;
    }
    const claims = decodeClaims(plain);
    plain.fill(0);
    if (claims === undefined) return undefined;
    const sessionId = encodeBase64Url(claims.sessionId);
    let popKey: PopKey;
    try {
      if (claims.expiresAt <= clock() || (await store.isRevoked(sessionId))) return undefined;
      popKey = PopKey.fromBytes(claims.popKey, sessionId, { bearer: token });
    } finally {
      // fromBytes copied the key into Rust.
      claims.popKey.fill(0);
    }
    const live = new AuthSession(claims.username, sessionId, claims.expiresAt, popKey, claims.createdAt);
    if (opened.size >= OPENED_MAX) {
      const oldest = opened.keys().next();
      if (!oldest.done) opened.delete(oldest.value);
    }
    const entry = { token, session: live, touchedAt: -Infinity };
    opened.set(tail(token), entry);
    touch(entry, clock());
    return live;
  }

  const verifier = new PopVerifier<AuthSession>({
    lookup: session,
    replayCache: store,
    windowMs: options.popWindowMs,
    clock,
    forms: options.popForms,
    origin: options.popOrigin,
  });

  return {
    /** The server's OPAQUE public key, for clients to pin. */
    get publicKey(): Uint8Array {
      return serverSetup.publicKey;
    },

    /**
     * Evaluates the OPRF for a new name; counted per client address and per
     * name (`rateLimit.registerPerAddress`, `registerPerUser`).
     */
    async registerStart(body: { username?: unknown; request?: unknown }, context?: RequestContext | string) {
      bodyArg(body);
      registrationOpen();
      const address = addressOf(context);
      const user = username(body.username);
      const request = message(body.request, 'request');
      await limits.registrationStarting(user, address);
      await registrationAllowed(user, address);
      if ((await store.getPasswordFile(user)) !== undefined) {
        throw new AuthError('this username is taken', 'ERR_AUTH_USER_EXISTS');
      }
      const response = await asLoginFailure(() => opaque.startRegistration(request, user));
      return { response: encodeBase64Url(response) };
    },

    /** Stores the password file built from `upload`; a taken name is a 409 `AuthError` (`ERR_AUTH_USER_EXISTS`). */
    async registerFinish(body: { username?: unknown; upload?: unknown }, context?: RequestContext | string) {
      bodyArg(body);
      registrationOpen();
      const address = addressOf(context);
      const user = username(body.username);
      const upload = message(body.upload, 'upload');
      const record = await asLoginFailure(() => opaque.finishRegistration(upload));
      // Asked again: the start is not bound to the finish, so a refused name could skip it.
      await registrationAllowed(user, address);
      if (!(await store.createUser(user, record.serialize()))) {
        throw new AuthError('this username is taken', 'ERR_AUTH_USER_EXISTS');
      }
      events.emit('registered', { username: user, address });
      return { ok: true as const };
    },

    /**
     * An unknown user gets a response of the same shape and cost (OPAQUE's
     * fake record). Counted as a failure of this name from `context.address`
     * until it finishes well; a 429 `AuthError` with `retryAfterMs` while
     * that pair or that address must wait.
     */
    async loginStart(body: { username?: unknown; request?: unknown }, context?: RequestContext | string) {
      bodyArg(body);
      const address = addressOf(context);
      const user = username(body.username);
      const request = message(body.request, 'request');
      await limits.loginStarting(user, address).catch(failedFor(user, address));
      const file = await store.getPasswordFile(user);
      const record = file === undefined ? null : ServerRegistration.deserialize(file);
      const { response, state } = await asLoginFailure(() => opaque.startLogin(record, request, user));
      const loginState = sealJson(
        loginKey,
        { u: user, a: address ?? null, s: encodeBase64Url(state.serialize()), n: randomBytes(16).toString('base64url') },
        sealOptions('keyward login state v1'),
      );
      state.dispose();
      return { response: encodeBase64Url(response), loginState: encodeBase64Url(loginState) };
    },

    /** The address the login started from (in its sealed state) is the one whose failure count it clears. */
    async loginFinish(body: { loginState?: unknown; finalization?: unknown }, context?: RequestContext | string) {
      bodyArg(body);
      const finalization = message(body.finalization, 'finalization');
      let pending: { u: string; a: string | null; s: string; n: string };
      try {
        pending = openJson(loginKey, message(body.loginState, 'loginState'), { ...sealOptions('keyward login state v1'), ttl: loginTtl / 1000 });
      } catch (error) {
        if (error instanceof DecryptionError || error instanceof TimestampExpiredError) {
          throw new AuthError('the login expired or was tampered with; start again', 'ERR_AUTH_LOGIN_FAILED');
        }
        throw error;
      }
      // A login state finishes once, even though it travels as a token.
      if (!(await store.add(`login:state:${pending.n}`, loginTtl))) {
        throw new AuthError('this login was already finished', 'ERR_AUTH_LOGIN_FAILED');
      }
      const state = ServerLoginState.deserialize(decodeBase64Url(pending.s));
      const address = pending.a ?? undefined;
      const { sessionKey: key } = await asLoginFailure(() => opaque.finishLogin(state, finalization)).catch(failedFor(pending.u, address));
      await limits.loginSucceeded(pending.u, address);
      const id = randomBytes(16);
      const sessionId = encodeBase64Url(id);
      const popKey = derivePopKey(key, sessionId);
      key.fill(0);
      const createdAt = clock();
      const expiresAt = Math.min(createdAt + sessionTtl, createdAt + maxSession);
      const token = sessionToken(id, popKey, expiresAt, createdAt, pending.u);
      popKey.dispose();
      if (typeof store.recordSession === 'function') {
        const userAgent = typeof context === 'object' && typeof context?.userAgent === 'string' ? context.userAgent.slice(0, 256) : undefined;
        await store.recordSession({ sessionId, username: pending.u, createdAt, expiresAt, lastSeenAt: createdAt, address, userAgent });
      }
      events.emit('loggedIn', { username: pending.u, sessionId, expiresAt, address });
      return { sessionId, token, expiresAt };
    },

    /** Checks a signed request; resolves to its session or throws `PopError`. */
    verify(request: RequestToVerify): Promise<AuthSession & { sessionId: string }> {
      return verifier.verify(request);
    },

    /** Revokes a verified session everywhere the store is shared. */
    async logout(session: AuthSession) {
      if (!(session instanceof AuthSession)) throw new InvalidArgumentError('session must be an AuthSession (from verify)');
      await store.revoke(session.sessionId, revokeUntil(session));
      events.emit('loggedOut', { username: session.username, sessionId: session.sessionId });
    },

    /**
     * Starts a password change for a verified session that logged in within
     * `passwordChangeWindowMs` (else 403 `ERR_AUTH_REAUTHENTICATE`): the
     * OPAQUE registration response for the session's own user.
     */
    async passwordChangeStart(session: AuthSession, body: { request?: unknown }) {
      const fresh = freshSession(session, 'password');
      bodyArg(body);
      const request = message(body.request, 'request');
      const response = await asLoginFailure(() => opaque.startRegistration(request, fresh.username));
      return { response: encodeBase64Url(response) };
    },

    /**
     * Replaces the user's password file with the one built from `upload`.
     * The sessions already issued stay valid until they expire or log out.
     */
    async passwordChangeFinish(session: AuthSession, body: { upload?: unknown }, context?: RequestContext | string) {
      const fresh = freshSession(session, 'password');
      bodyArg(body);
      const address = addressOf(context);
      const upload = message(body.upload, 'upload');
      const record = await asLoginFailure(() => opaque.finishRegistration(upload));
      // biome-ignore lint/style/noNonNullAssertion: freshSession checked that the store has it
      if (!(await store.setPasswordFile!(fresh.username, record.serialize()))) {
        throw new AuthError('this user no longer exists', 'ERR_AUTH_LOGIN_FAILED');
      }
      events.emit('passwordChanged', { username: fresh.username, sessionId: fresh.sessionId, address });
      return { ok: true as const };
    },

    /**
     * A password-reset grant for `username`, for the application to send
     * after its own verification (an e-mail link, a support call): a sealed
     * token naming the user, good for `ttlMs` (30 minutes by default) and one
     * use, at `POST /reset/start` and `/reset/finish` (`resetPassword` on
     * both clients). Resolves to undefined for an unknown user, so the
     * application can answer the same either way. Needs `setPasswordFile`.
     */
    async createResetGrant(user: string, grantOptions?: { ttlMs?: number }): Promise<string | undefined> {
      const name = username(user);
      const ttl = grantOptions?.ttlMs ?? 30 * 60_000;
      if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > 7 * 24 * 3_600_000) throw new InvalidArgumentError('ttlMs must be whole ms > 0, at most 7 days');
      if (typeof store.setPasswordFile !== 'function') throw new AuthError('this store cannot change passwords (no setPasswordFile)', 'ERR_AUTH_UNSUPPORTED');
      if ((await store.getPasswordFile(name)) === undefined) return undefined;
      const grant = { u: name, n: randomBytes(16).toString('base64url'), e: clock() + ttl };
      return makeToken(resetKey, JSON.stringify(grant), sealOptions(RESET_AAD));
    },

    /** The OPAQUE registration response for the user a reset grant names; the grant is checked, not spent. */
    async resetStart(body: { grant?: unknown; request?: unknown }) {
      bodyArg(body);
      const grant = openGrant(body.grant);
      const request = message(body.request, 'request');
      const response = await asLoginFailure(() => opaque.startRegistration(request, grant.u));
      return { response: encodeBase64Url(response) };
    },

    /** Spends the grant, replaces the password file, and revokes every session of the user. */
    async resetFinish(body: { grant?: unknown; upload?: unknown }, context?: RequestContext | string) {
      bodyArg(body);
      const address = addressOf(context);
      const grant = openGrant(body.grant);
      const upload = message(body.upload, 'upload');
      const record = await asLoginFailure(() => opaque.finishRegistration(upload));
      // One use: the nonce is remembered for as long as the grant could still open.
      if (!(await store.add(`reset:${grant.n}`, Math.max(1, grant.e - clock())))) {
        throw new AuthError('this reset grant was already used', 'ERR_AUTH_RESET_GRANT');
      }
      // biome-ignore lint/style/noNonNullAssertion: createResetGrant checked that the store has it
      if (!(await store.setPasswordFile!(grant.u, record.serialize()))) throw new AuthError('this user no longer exists', 'ERR_AUTH_RESET_GRANT');
      if (typeof store.listSessions === 'function') {
        const sessions = await store.listSessions(grant.u, clock());
        await Promise.all(sessions.map((s) => store.revoke(s.sessionId, revokeUntil(s))));
      }
      events.emit('passwordReset', { username: grant.u, address });
      return { ok: true as const };
    },

    /**
     * A new token for the same session (same id and key; the client keeps
     * its key and swaps its bearer), living `sessionTtlMs` from now but never
     * past `maxSessionMs` from the login. No password needed; the session
     * must be live and signed for. The old token stays valid to its own expiry.
     */
    async refresh(session: AuthSession) {
      const current = sessionArg(session);
      const now = clock();
      if (now >= current.createdAt + maxSession) throw new AuthError('this session has reached its longest life; log in again', 'ERR_AUTH_REAUTHENTICATE');
      const expiresAt = Math.max(current.expiresAt, Math.min(now + sessionTtl, current.createdAt + maxSession));
      const token = sessionToken(decodeBase64Url(current.sessionId), current.popKey, expiresAt, current.createdAt, current.username);
      await extendRecord(current, expiresAt, now);
      return { sessionId: current.sessionId, token, expiresAt };
    },

    /** The user's live sessions, newest first, the caller's marked `current`; 501 for a store without session records. */
    async listSessions(session: AuthSession) {
      const current = sessionArg(session);
      const sessions = await accounts().list(current.username);
      return { sessions: sessions.map((s) => ({ ...s, current: s.sessionId === current.sessionId })) };
    },

    /** Revokes one of the user's own sessions (404 `ERR_AUTH_UNKNOWN_SESSION` for any other id). */
    async revokeSession(session: AuthSession, body: { sessionId?: unknown }) {
      const current = sessionArg(session);
      bodyArg(body);
      const target = (await accounts().list(current.username)).find((s) => s.sessionId === body.sessionId);
      if (target === undefined) throw new AuthError('no such session of this user', 'ERR_AUTH_UNKNOWN_SESSION');
      await store.revoke(target.sessionId, revokeUntil(target));
      events.emit('loggedOut', { username: current.username, sessionId: target.sessionId });
      return { ok: true as const };
    },

    /** Logs the user out everywhere: every listed session and the caller's. */
    async logoutEverywhere(session: AuthSession) {
      const current = sessionArg(session);
      const revoked = await revokeAll(current.username, current);
      events.emit('loggedOut', { username: current.username, sessionId: current.sessionId });
      return { ok: true as const, revoked: Math.max(revoked, 1) };
    },

    /**
     * Deletes the account of a session that logged in within
     * `passwordChangeWindowMs` (else 403 `ERR_AUTH_REAUTHENTICATE`): its
     * sessions are revoked, then its password file, session records and
     * rate-limit counts go. The name may then be registered again at once.
     */
    async deleteAccount(session: AuthSession, context?: RequestContext | string) {
      const current = freshSession(session, 'account');
      const address = addressOf(context);
      await revokeAll(current.username, current);
      await accounts().deleteUser(current.username);
      await limits.accountDeleted(current.username, address);
      events.emit('accountDeleted', { username: current.username, address });
      return { ok: true as const };
    },

    /**
     * Listens to a lifecycle event (`registered`, `loggedIn`, `loginFailed`,
     * `loggedOut`, `passwordChanged`, `accountDeleted`); returns the function that stops listening. Listeners run
     * after the request's work and cannot fail it.
     */
    on<N extends AuthEventName>(name: N, listener: (event: AuthEvents[N]) => unknown): () => void {
      return events.on(name, listener);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
