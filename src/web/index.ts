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
import { baseArg, createClientCore, signatureArg } from '../client/shared';
import { InvalidLoginError, PopError } from '../errors';
import { decode, encode } from './base64url';
import type { KEY_STRETCHING_PRESETS } from './constants.generated';
import { SessionStore, type StoredSession } from './persist';
import { derivePopKey, signHeaders, signRfc9421Headers } from './pop';

/** Argon2id costs; must match what the user registered with. The presets are the OPAQUE core's (`KeyStretchingPreset`). */
export type WebKeyStretching = (typeof KEY_STRETCHING_PRESETS)[number] | { 'argon2id-custom': { iterations: number; memory: number; parallelism: number } };

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

/** A session as this client holds it: the session id is the RFC 9421 keyid; a session saved before it was kept has none. */
type WebSession = StoredSession & { sessionId?: string };

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
  // The OPAQUE core's default preset, as the server's; a preset it renames fails the type check.
  const keyStretching: WebKeyStretching = options.keyStretching ?? 'memory-constrained';
  const form = signatureArg(options.signature);
  const expectedServerKey =
    typeof options.serverPublicKey === 'string' || options.serverPublicKey === undefined ? options.serverPublicKey : encode(options.serverPublicKey);
  const persist = options.persist ?? false;
  const store = persist === false ? undefined : new SessionStore(persist === true ? 'keyward' : persist.database, authBase);
  const loadOpaque = options.loadOpaque ?? (() => import('@serenity-kit/opaque'));
  let opaque: Promise<typeof Serenity> | undefined;

  async function serenity(): Promise<(typeof Serenity)['client']> {
    opaque ??= loadOpaque().then(async (m) => {
      await m.ready;
      return m;
    });
    return (await opaque).client;
  }

  function checkServerKey(serverStaticPublicKey: string): void {
    if (expectedServerKey !== undefined && serverStaticPublicKey !== expectedServerKey) {
      throw new InvalidLoginError('the server answered with another OPAQUE public key than serverPublicKey');
    }
  }

  return createClientCore(
    {
      base,
      authBase,
      fetch: options.fetch,
      opaque: {
        async startRegistration(password) {
          const client = await serenity();
          const start = client.startRegistration({ password });
          return {
            request: start.registrationRequest,
            async finish(registrationResponse) {
              const done = client.finishRegistration({ clientRegistrationState: start.clientRegistrationState, registrationResponse, password, keyStretching });
              checkServerKey(done.serverStaticPublicKey);
              return done.registrationRecord;
            },
          };
        },
        async startLogin(password) {
          const client = await serenity();
          const start = client.startLogin({ password });
          return {
            request: start.startLoginRequest,
            async finish(loginResponse) {
              const done = client.finishLogin({ clientLoginState: start.clientLoginState, loginResponse, password, keyStretching });
              if (done === undefined) throw new InvalidLoginError();
              checkServerKey(done.serverStaticPublicKey);
              return { finalization: done.finishLoginRequest, sessionKey: decode(done.sessionKey) };
            },
          };
        },
      },
      async open(sessionKey, issued, username): Promise<WebSession> {
        const key = await derivePopKey(sessionKey, issued.sessionId);
        const saved: StoredSession = { key, bearer: issued.token, username, expiresAt: issued.expiresAt };
        const session = { ...saved, sessionId: issued.sessionId };
        // The id is kept in IndexedDB only when the RFC 9421 form needs it (as keyid) after a reload.
        await store?.save(form === 'rfc9421' ? session : saved);
        return session;
      },
      async renew(current, issued) {
        const next = { ...current, bearer: issued.token, expiresAt: issued.expiresAt };
        await store?.save(next);
        return next;
      },
      forget: async () => store?.remove(),
      async sign(session, { method, url, body, timestamp }) {
        const bytes = typeof body === 'string' ? utf8.encode(body) : (body ?? new Uint8Array(0));
        if (form === 'keyward')
          return signHeaders({ key: session.key, bearer: session.bearer, method, target: `${url.pathname}${url.search}`, body: bytes, timestamp });
        if (session.sessionId === undefined) throw new PopError('this restored session has no session id to sign with: log in again', 'ERR_POP_NO_SESSION');
        return signRfc9421Headers({ key: session.key, bearer: session.bearer, keyId: session.sessionId, method, url, body: bytes, timestamp });
      },
      bearer: (session) => session.bearer,
    },
    (core) => ({
      /**
       * With `persist`: picks up the session a previous page saved, unless it
       * has expired. Resolves to the username and expiry, or undefined.
       */
      async restore(): Promise<{ username: string; expiresAt: number } | undefined> {
        const saved = await store?.load();
        if (saved === undefined) return undefined;
        if (saved.expiresAt <= core.now()) {
          await store?.remove();
          return undefined;
        }
        core.session = saved;
        return { username: saved.username, expiresAt: saved.expiresAt };
      },

      /** The logged-in user's name. */
      get username(): string | undefined {
        return core.session?.username;
      },
    }),
  );
}

export type KeywardWebClient = ReturnType<typeof createWebClient>;
export type { SessionInfo } from '../client/shared';
export { AuthError, InvalidArgumentError, InvalidLoginError, KeywardError, PopError } from '../errors';
