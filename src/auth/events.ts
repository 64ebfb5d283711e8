/**
 * What the auth service tells an application: lifecycle events for audit
 * logs and e-mails, and the hook that may veto a registration. Events carry
 * names, addresses and session ids, never a password, a key or a token.
 */

import type { AuthErrorCode } from '../errors';
import { InvalidArgumentError } from '../errors';

/** The events and what each carries. `address` is the client address the framework reported, when known. */
export interface AuthEvents {
  /** A new user's password file was stored. */
  registered: { username: string; address?: string };
  /** A login finished: a session was issued. */
  loggedIn: { username: string; sessionId: string; expiresAt: number; address?: string };
  /**
   * A login the server refused: a finalization that does not verify, or an
   * expired or replayed login (`ERR_AUTH_LOGIN_FAILED`), or one from a name
   * and address that must wait (`ERR_AUTH_RATE_LIMITED`). A wrong password
   * is found by the client (that is OPAQUE): the server sees a login start
   * that never finishes, which the rate limits count as a failure until a
   * login of that name from that address finishes.
   */
  loginFailed: { username: string; address?: string; code: AuthErrorCode };
  /** A session was revoked by its own signed logout. */
  loggedOut: { username: string; sessionId: string };
  /** A user's password file was replaced through a fresh session (`sessionId`). */
  passwordChanged: { username: string; sessionId: string; address?: string };
  /** A password was replaced through a reset grant; every session of the user was revoked. */
  passwordReset: { username: string; address?: string };
  /** A user deleted their account (its sessions revoked, its records gone). */
  accountDeleted: { username: string; address?: string };
}

export type AuthEventName = keyof AuthEvents;
export const authEventNames: readonly AuthEventName[] = [
  'registered',
  'loggedIn',
  'loginFailed',
  'loggedOut',
  'passwordChanged',
  'passwordReset',
  'accountDeleted',
];

/** Hooks that take part in a request; unlike events, they can change its outcome. */
export interface AuthHooks {
  /**
   * Asked before a name is offered for registration (at `/register/start`,
   * and again at `/register/finish`): resolve to `false` to refuse it with
   * 403 `ERR_AUTH_REGISTRATION_REFUSED` (an invitation list, a reserved name,
   * a domain rule). A throw fails the request with that error.
   */
  beforeRegister?: (attempt: { username: string; address?: string }) => boolean | undefined | Promise<boolean | undefined>;
}

type Listener<N extends AuthEventName> = (event: AuthEvents[N]) => unknown;

/**
 * Listeners run after the request's own work, never inside it: a slow or
 * failing listener neither delays nor fails a login. What a listener throws
 * (or rejects with) goes to `onError`.
 */
export class AuthEventEmitter {
  readonly #listeners = new Map<AuthEventName, Set<Listener<AuthEventName>>>();
  readonly #onError: (error: unknown, event: AuthEventName) => void;

  constructor(onError?: (error: unknown, event: AuthEventName) => void) {
    this.#onError =
      onError ??
      ((error, event) => {
        // The event's name only: its data may be personal (names, addresses).
        process.emitWarning(`a keyward ${event} listener failed: ${error instanceof Error ? error.message : String(error)}`, 'KeywardEventWarning');
      });
  }

  /** Adds a listener; returns the function that removes it. An unknown event name throws `InvalidArgumentError`. */
  on<N extends AuthEventName>(name: N, listener: Listener<N>): () => void {
    if (!authEventNames.includes(name)) throw new InvalidArgumentError(`unknown auth event; expected one of ${authEventNames.join(', ')}`);
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function');
    const set = this.#listeners.get(name) ?? new Set();
    this.#listeners.set(name, set);
    set.add(listener as Listener<AuthEventName>);
    return () => void set.delete(listener as Listener<AuthEventName>);
  }

  /** @internal */
  emit<N extends AuthEventName>(name: N, event: AuthEvents[N]): void {
    const set = this.#listeners.get(name);
    if (set === undefined || set.size === 0) return;
    const frozen = Object.freeze({ ...event });
    for (const listener of set) {
      setImmediate(() => {
        try {
          const result = listener(frozen);
          if (typeof (result as Promise<unknown>)?.then === 'function') (result as Promise<unknown>).catch((error) => this.#onError(error, name));
        } catch (error) {
          this.#onError(error, name);
        }
      });
    }
  }
}
