/**
 * The relay protocol as the server and the client see it from TypeScript:
 * the frame types, the limits and the error codes of crates/relay
 * (docs/relay.md), taken from the native binding so that they are written
 * down once, in Rust. Everything that names a binding export goes through
 * this file.
 */
import type * as Binding from '../../native/binding';
import { KeywardError, RelayError, type RelayErrorCode } from '../errors';
import { binding, call } from '../native';

export type RelayFrame = Binding.RelayFrame;
export type RelayBody = Binding.RelayBody;
export type RelayPrekeyStatus = Binding.RelayPrekeyStatus;
export type RelaySignedPrekey = Binding.RelaySignedPrekey;
export type RelayOneTimePrekey = Binding.RelayOneTimePrekey;
export type NativeRelayKey = InstanceType<typeof binding.RelayKey>;
export type NativeRelayChannel = InstanceType<typeof binding.RelayChannel>;

/** The body of one frame type, e.g. `BodyOf<'Send'>`. */
export type BodyOf<T extends RelayBody['type']> = Extract<RelayBody, { type: T }>;

/** The relay's limits (crates/relay/src/limits.rs). */
export const RELAY_LIMITS = {
  maxBody: binding.RELAY_MAX_BODY,
  maxFrame: binding.RELAY_MAX_FRAME,
  maxNoiseMessage: binding.RELAY_MAX_NOISE_MESSAGE,
  maxInFlight: binding.RELAY_MAX_IN_FLIGHT,
  maxOneTimeStored: binding.RELAY_MAX_ONE_TIME_STORED,
  prekeysLowThreshold: binding.RELAY_PREKEYS_LOW_THRESHOLD,
  maxDevices: binding.RELAY_MAX_DEVICES,
  defaultTtlMs: binding.RELAY_DEFAULT_TTL_MS,
  defaultQuotaMessages: binding.RELAY_DEFAULT_QUOTA_MESSAGES,
  defaultQuotaBytes: binding.RELAY_DEFAULT_QUOTA_BYTES,
  bundleFetchesPerWindow: binding.RELAY_BUNDLE_FETCHES_PER_WINDOW,
  bundleFetchWindowMs: binding.RELAY_BUNDLE_FETCH_WINDOW_MS,
  keyLength: binding.RELAY_KEY_LEN,
} as const;

/** Every code an ERROR frame carries (docs/relay.md "Error codes"): crates/relay's one list, through the binding. */
export const WIRE_CODES: readonly RelayWireCode[] = Object.values(binding.RelayErrorCode);
/** A code that travels in ERROR frames and handshake refusals. */
export type RelayWireCode = `${Binding.RelayErrorCode}`;
/** A relay code: the wire's, the two that never travel, and the client's own ERR_RELAY_CLOSED (src/errors.ts). */
export type RelayCode = RelayErrorCode;

const wireCodes: ReadonlySet<string> = new Set(WIRE_CODES);

/** The wire code an error carries, if it is one (a RelayError from the store or the binding). */
export function wireCodeOf(error: unknown): RelayWireCode | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && wireCodes.has(code) ? (code as RelayWireCode) : undefined;
}

/**
 * A relay refusal as the client sees it: `code` is the wire code (or
 * ERR_RELAY_HANDSHAKE / ERR_RELAY_CLOSED), `retryAfterMs` the ERROR frame's
 * wait (non-zero only for RATE_LIMITED and UNAVAILABLE).
 */
export function relayError(message: string, code: RelayCode, retryAfterMs?: number): RelayError {
  return new RelayError(message, code, retryAfterMs === undefined ? undefined : { retryAfterMs });
}

/** The identity's fingerprint (32 bytes), the key the relay keeps state by; `undefined` for a key that is not a valid identity. */
export function fingerprintOf(identity: Uint8Array): Uint8Array | undefined {
  try {
    return call(() => binding.identityFingerprint(identity));
  } catch (error) {
    if (error instanceof KeywardError && error.code === 'ERR_INVALID_ARG_VALUE') return undefined;
    throw error;
  }
}

/** The store limits a relay runs with unless configured otherwise (crates/relay's defaults), for `SqliteRelayStore` and `PgRelayStore`. */
export const RELAY_STORE_DEFAULTS = {
  quotaMessages: RELAY_LIMITS.defaultQuotaMessages,
  quotaBytes: RELAY_LIMITS.defaultQuotaBytes,
  ttlMs: RELAY_LIMITS.defaultTtlMs,
  maxOneTimeStored: RELAY_LIMITS.maxOneTimeStored,
  maxDevices: RELAY_LIMITS.maxDevices,
} as const;
