/**
 * The verified session (what the adapters put on `request.auth`) and the
 * session token that carries it. The token is a sealed box of
 * `version (1) | session id (16) | PoP key (32) | expiry ms (8) | login ms (8) | username (UTF-8)`
 * (integers big-endian; version 3 added the login time, which bounds refreshes):
 * binary, so its size is fixed plus the name's bytes (src/auth/username.ts).
 */
import { inspect } from 'node:util';
import type { PopKey } from '../pop/key';

const VERSION = 3;
const FIXED = 1 + 16 + 32 + 8 + 8;

/**
 * A live, verified session. Its PoP key (which holds the bearer token) is
 * reachable as `popKey` but stays out of `JSON.stringify`, `util.inspect`,
 * `Object.keys` and spreads: logging `request.auth` shows the username,
 * session id and expiry only.
 */
export class AuthSession {
  /** The name the session logged in with. */
  readonly username: string;
  /** base64url of 16 random bytes; names the session in revocations. */
  readonly sessionId: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  /** When the login finished (ms since the epoch); refreshes keep it. */
  readonly createdAt: number;
  readonly #popKey: PopKey;

  /** @internal Made by the auth service from a session token. */
  constructor(username: string, sessionId: string, expiresAt: number, popKey: PopKey, createdAt: number) {
    this.username = username;
    this.sessionId = sessionId;
    this.expiresAt = expiresAt;
    this.createdAt = createdAt;
    this.#popKey = popKey;
  }

  /** The session's proof-of-possession key. */
  get popKey(): PopKey {
    return this.#popKey;
  }

  /** What logs and responses show: never the key or the token. */
  toJSON(): { username: string; sessionId: string; expiresAt: number } {
    return { username: this.username, sessionId: this.sessionId, expiresAt: this.expiresAt };
  }

  [inspect.custom](_depth: number, options: object, show: typeof inspect = inspect): string {
    return `AuthSession ${show(this.toJSON(), options)}`;
  }
}

export interface SessionClaims {
  sessionId: Uint8Array;
  popKey: Uint8Array;
  expiresAt: number;
  /** When the login that opened the session finished; refreshes keep it. */
  createdAt: number;
  username: string;
}

/** The plaintext of a session token. */
export function encodeClaims(claims: SessionClaims): Uint8Array {
  const name = Buffer.from(claims.username, 'utf8');
  const out = Buffer.alloc(FIXED + name.length);
  out[0] = VERSION;
  out.set(claims.sessionId, 1);
  out.set(claims.popKey, 17);
  out.writeBigUInt64BE(BigInt(claims.expiresAt), 49);
  out.writeBigUInt64BE(BigInt(claims.createdAt), 57);
  out.set(name, FIXED);
  return out;
}

/** The claims of an opened token; undefined for any other version or shape. */
export function decodeClaims(plain: Uint8Array): SessionClaims | undefined {
  if (plain.length < FIXED + 1 || plain[0] !== VERSION) return undefined;
  const b = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  return {
    // Copies: the caller wipes the plaintext.
    sessionId: Uint8Array.from(b.subarray(1, 17)),
    popKey: Uint8Array.from(b.subarray(17, 49)),
    expiresAt: Number(b.readBigUInt64BE(49)),
    createdAt: Number(b.readBigUInt64BE(57)),
    username: b.subarray(FIXED).toString('utf8'),
  };
}
