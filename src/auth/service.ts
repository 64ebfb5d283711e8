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
  /** Session lifetime; 1 hour by default. */
  sessionTtlMs?: number;
  /** Time allowed between login start and finish; 60 s by default. */
  loginTtlMs?: number;
  /** Limits on failed logins and registration starts (src/auth/rate-limits.ts, docs/threat-model.md). */
  rateLimit?: RateLimitOptions;
  /** `false` refuses `/register/start` and `/register/finish` with 403 `ERR_AUTH_REGISTRATION_DISABLED`; `true` by default. */
  allowRegistration?: boolean;
  /** PoP timestamp window; 30 s by default. */
  popWindowMs?: number;
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

/** Binds session tokens to their format (src/auth/session.ts); v1 was JSON claims. */
const SESSION_AAD = 'keyward session v2';

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
  for (const name of ['sessionTtlMs', 'loginTtlMs'] as const) {
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
  const sealOptions = (aad: string) => ({ aad, clock });
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
  const opened = new Map<string, { token: string; session: AuthSession }>();
  const OPENED_MAX = 10_000;
  const tail = (token: string) => token.slice(-TOKEN_TAIL);

  /** The live session a token names, or undefined; synchronous when the token was opened before. */
  function session(token: string): AuthSession | undefined | Promise<AuthSession | undefined> {
    const entry = opened.get(tail(token));
    if (entry === undefined || entry.token !== token) return openToken(token);
    const known = entry.session;
    if (known.expiresAt <= clock()) return undefined;
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
    const live = new AuthSession(claims.username, sessionId, claims.expiresAt, popKey);
    if (opened.size >= OPENED_MAX) {
      const oldest = opened.keys().next();
      if (!oldest.done) opened.delete(oldest.value);
    }
    opened.set(tail(token), { token, session: live });
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
    async loginFinish(body: { loginState?: unknown; finalization?: unknown }, _context?: RequestContext | string) {
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
      const expiresAt = clock() + sessionTtl;
      const plain = encodeClaims({ sessionId: id, popKey: popKey.exportBytes(), expiresAt, username: pending.u });
      popKey.dispose();
      const token = makeToken(sessionKey, plain, sealOptions(SESSION_AAD));
      plain.fill(0);
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
      await store.revoke(session.sessionId, session.expiresAt);
      events.emit('loggedOut', { username: session.username, sessionId: session.sessionId });
    },

    /**
     * Listens to a lifecycle event (`registered`, `loggedIn`, `loginFailed`,
     * `loggedOut`); returns the function that stops listening. Listeners run
     * after the request's work and cannot fail it.
     */
    on<N extends AuthEventName>(name: N, listener: (event: AuthEvents[N]) => unknown): () => void {
      return events.on(name, listener);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
