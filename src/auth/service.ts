/**
 * The framework-agnostic auth service: OPAQUE registration and login whose
 * session key becomes a proof-of-possession key (DESIGN §2). The Fastify
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
import { AuthError, DecryptionError, KeywardError, TimestampExpiredError } from '../errors';
import { OpaqueServer } from '../opaque/server';
import { ServerLoginState, ServerRegistration, type ServerSetup } from '../opaque/objects';
import { PopKey, derivePopKey } from '../pop/key';
import { PopVerifier, type RequestToVerify } from '../pop/verifier';
import { SecretKey } from '../seal/key';
import { openJson, sealJson, makeToken, readToken } from '../seal/box';
import type { AuthStore } from './store';

export interface AuthServiceOptions {
  serverSetup: ServerSetup;
  store: AuthStore;
  /** Seals login states and session tokens. Every instance must use the same one. */
  sealKey: SecretKey;
  /** Session lifetime; 1 hour by default. */
  sessionTtlMs?: number;
  /** Time allowed between login start and finish; 60 s by default. */
  loginTtlMs?: number;
  /** Login attempts allowed per user and per client address within `windowMs`. */
  rateLimit?: { perUser?: number; perAddress?: number; windowMs?: number };
  /** PoP timestamp window; 30 s by default. */
  popWindowMs?: number;
  clock?: () => number;
}

export interface AuthSession {
  username: string;
  sessionId: string;
  expiresAt: number;
  popKey: PopKey;
}

interface SessionClaims {
  v: 1;
  sid: string;
  u: string;
  pop: string;
  exp: number;
}

/** Characters of a session token that key the cache of opened tokens: its last 16 bytes or so, the tag. */
const TOKEN_TAIL = 22;

const usernamePattern = /^[^\u0000-\u001f\u007f]{1,128}$/u;

function username(value: unknown): string {
  if (typeof value !== 'string' || !usernamePattern.test(value)) {
    throw new AuthError('username must be 1–128 characters without control characters', 'ERR_AUTH_BAD_REQUEST');
  }
  return value;
}

function message(value: unknown, what: string): Uint8Array {
  try {
    if (typeof value !== 'string' || value.length > 8192) throw new Error();
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

export function createAuthService(options: AuthServiceOptions) {
  const { serverSetup, store } = options;
  const opaque = new OpaqueServer(serverSetup);
  const clock = options.clock ?? Date.now;
  const sessionTtl = options.sessionTtlMs ?? 3_600_000;
  const loginTtl = options.loginTtlMs ?? 60_000;
  const limits = { perUser: 10, perAddress: 100, windowMs: 15 * 60_000, ...options.rateLimit };
  const loginKey = options.sealKey.derive('keyward auth', 'login state');
  const sessionKey = options.sealKey.derive('keyward auth', 'session');
  const sealOptions = (aad: string) => ({ aad, clock });

  async function rateLimit(user: string, address: string | undefined) {
    const perUser = await store.hit(`login:user:${user}`, limits.windowMs);
    const perAddress = address === undefined ? 0 : await store.hit(`login:addr:${address}`, limits.windowMs);
    if (perUser > limits.perUser || perAddress > limits.perAddress) {
      throw new AuthError('too many login attempts; try again later', 'ERR_AUTH_RATE_LIMITED');
    }
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
    let claims: SessionClaims;
    try {
      claims = JSON.parse(Buffer.from(readToken(sessionKey, token, sealOptions('keyward session v1'))).toString('utf8'));
    } catch (error) {
      if (error instanceof DecryptionError || error instanceof SyntaxError || error instanceof KeywardError) return undefined;
      throw error;
    }
    if (claims.v !== 1 || claims.exp <= clock() || (await store.isRevoked(claims.sid))) return undefined;
    const popKey = PopKey.fromBytes(decodeBase64Url(claims.pop), claims.sid, { bearer: token });
    const live = { username: claims.u, sessionId: claims.sid, expiresAt: claims.exp, popKey };
    if (opened.size >= OPENED_MAX) opened.delete(opened.keys().next().value!);
    opened.set(tail(token), { token, session: live });
    return live;
  }

  const verifier = new PopVerifier<AuthSession>({
    lookup: session,
    replayCache: store,
    windowMs: options.popWindowMs,
    clock,
  });

  return {
    /** The server's OPAQUE public key, for clients to pin. */
    get publicKey(): Uint8Array {
      return serverSetup.publicKey;
    },

    async registerStart(body: { username?: unknown; request?: unknown }) {
      const user = username(body.username);
      const request = message(body.request, 'request');
      if ((await store.getPasswordFile(user)) !== undefined) {
        throw new AuthError('this username is taken', 'ERR_AUTH_USER_EXISTS');
      }
      const response = await asLoginFailure(() => opaque.startRegistration(request, user));
      return { response: encodeBase64Url(response) };
    },

    async registerFinish(body: { username?: unknown; upload?: unknown }) {
      const user = username(body.username);
      const upload = message(body.upload, 'upload');
      const record = await asLoginFailure(() => opaque.finishRegistration(upload));
      if (!(await store.createUser(user, record.serialize()))) {
        throw new AuthError('this username is taken', 'ERR_AUTH_USER_EXISTS');
      }
      return { ok: true as const };
    },

    /** An unknown user gets a response of the same shape and cost (OPAQUE's fake record). */
    async loginStart(body: { username?: unknown; request?: unknown }, clientAddress?: string) {
      const user = username(body.username);
      const request = message(body.request, 'request');
      await rateLimit(user, clientAddress);
      const file = await store.getPasswordFile(user);
      const record = file === undefined ? null : ServerRegistration.deserialize(file);
      const { response, state } = await asLoginFailure(() => opaque.startLogin(record, request, user));
      const loginState = sealJson(
        loginKey,
        { u: user, s: encodeBase64Url(state.serialize()), n: randomBytes(16).toString('base64url') },
        sealOptions('keyward login state v1'),
      );
      state.dispose();
      return { response: encodeBase64Url(response), loginState: encodeBase64Url(loginState) };
    },

    async loginFinish(body: { loginState?: unknown; finalization?: unknown }) {
      const finalization = message(body.finalization, 'finalization');
      let pending: { u: string; s: string; n: string };
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
      const { sessionKey: key } = await asLoginFailure(() => opaque.finishLogin(state, finalization));
      const sessionId = randomBytes(16).toString('base64url');
      const popKey = derivePopKey(key, sessionId);
      key.fill(0);
      const expiresAt = clock() + sessionTtl;
      const claims: SessionClaims = { v: 1, sid: sessionId, u: pending.u, pop: encodeBase64Url(popKey.exportBytes()), exp: expiresAt };
      popKey.dispose();
      const token = makeToken(sessionKey, JSON.stringify(claims), sealOptions('keyward session v1'));
      return { sessionId, token, expiresAt };
    },

    /** Checks a signed request; resolves to its session or throws `PopError`. */
    verify(request: RequestToVerify): Promise<AuthSession & { sessionId: string }> {
      return verifier.verify(request);
    },

    /** Revokes a verified session everywhere the store is shared. */
    async logout(session: AuthSession) {
      await store.revoke(session.sessionId, session.expiresAt);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
