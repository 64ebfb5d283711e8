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
import { OpaqueClient } from '../opaque/client';
import type { KeyStretching, Suite } from '../opaque/types';
import { derivePopKey, PopKey } from '../pop/key';
import { signRequest, signRequestRfc9421 } from '../pop/sign';
import { baseArg, createClientCore, signatureArg } from './shared';

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
  const form = signatureArg(options.signature);
  const opaque = new OpaqueClient({ suite: options.suite, keyStretching: options.keyStretching, serverPublicKey: options.serverPublicKey });

  // The session's key lives in native memory (a PopKey); the client disposes it when the session ends.
  return createClientCore<{ popKey: PopKey; username: string; expiresAt: number }>({
    base,
    authBase,
    fetch: options.fetch,
    opaque: {
      async startRegistration(password) {
        const start = opaque.startRegistration(password);
        return {
          request: encodeBase64Url(start.request),
          finish: async (response) => encodeBase64Url((await opaque.finishRegistration(start.state, password, decodeBase64Url(response))).upload),
        };
      },
      async startLogin(password) {
        const start = opaque.startLogin(password);
        return {
          request: encodeBase64Url(start.request),
          async finish(response) {
            const done = await opaque.finishLogin(start.state, password, decodeBase64Url(response));
            return { finalization: encodeBase64Url(done.finalization), sessionKey: done.sessionKey };
          },
        };
      },
    },
    open: async (sessionKey, issued, username) => ({
      popKey: derivePopKey(sessionKey, issued.sessionId, { bearer: issued.token }),
      username,
      expiresAt: issued.expiresAt,
    }),
    async renew(current, issued) {
      const key = current.popKey.exportBytes();
      try {
        const popKey = PopKey.fromBytes(key, issued.sessionId, { bearer: issued.token });
        current.popKey.dispose();
        return { ...current, popKey, expiresAt: issued.expiresAt };
      } finally {
        key.fill(0);
      }
    },
    dispose: (session) => session.popKey.dispose(),
    async sign(session, { method, url, body, timestamp }) {
      const target = `${url.pathname}${url.search}`;
      return form === 'rfc9421'
        ? signRequestRfc9421(session.popKey, { method, body, timestamp, url: `${url.origin}${target}`, components: 'target-uri' })
        : signRequest(session.popKey, { method, body, timestamp, url: target });
    },
    bearer: (session) => session.popKey.bearer,
  });
}

export type KeywardClient = ReturnType<typeof createClient>;

export type { SessionInfo } from './shared';
