/**
 * Which connection holds which mailbox, and the signals between
 * connections: displacement (one connection per identity and device),
 * wake-ups (a send stored a message for a connected mailbox) and
 * PREKEYS_LOW (a claim left a device short of one-time prekeys).
 *
 * `LocalPresence` covers one process. Several relay instances need a shared
 * implementation (Redis pub/sub, a later step) behind the same interface;
 * a lost wake-up costs only latency, since every fetching connection also
 * polls its mailbox.
 */

import { InvalidArgumentError } from '../errors';

/** What a connection answers to. */
export interface PresenceHolder {
  /** A newer connection registered the same mailbox: push DISPLACED and close. */
  displaced(): void;
  /** The mailbox has new messages: deliver them if fetching. */
  wake(): void;
  /** A claim left the device's one-time prekeys low: push PREKEYS_LOW. */
  prekeysLow(): void;
}

/** The mailbox registry the server signals through. Keys are opaque strings (fingerprint ‖ device). */
export interface RelayPresence {
  /**
   * Makes `holder` the connection of `key`; the previous holder, in this
   * process or elsewhere, is `displaced()`. Returns the release, which
   * forgets `holder` if it still holds `key`.
   */
  claim(key: string, holder: PresenceHolder): () => void;
  /** Signals the holder of `key` (here or elsewhere), if there is one; a lost signal must only delay. */
  signal(key: string, signal: 'wake' | 'prekeys-low'): void;
}

/**
 * @internal `claim`'s arguments, checked: a presence may be called by other
 * code than the server (a custom one wrapping ours), and a bad holder would
 * only fail later, at the displacement of whoever claimed after it.
 */
export function claimArgs(key: unknown, holder: unknown): void {
  if (typeof key !== 'string' || key === '') throw new InvalidArgumentError('the mailbox key must be a non-empty string');
  const h = holder as PresenceHolder | null;
  if (typeof h !== 'object' || h === null || typeof h.displaced !== 'function' || typeof h.wake !== 'function' || typeof h.prekeysLow !== 'function') {
    throw new InvalidArgumentError('the holder must have displaced(), wake() and prekeysLow()');
  }
}

/** @internal `signal`'s arguments, checked. */
export function signalArgs(key: unknown, signal: unknown): void {
  if (typeof key !== 'string' || key === '') throw new InvalidArgumentError('the mailbox key must be a non-empty string');
  if (signal !== 'wake' && signal !== 'prekeys-low') throw new InvalidArgumentError("the signal must be 'wake' or 'prekeys-low'");
}

/** The key of one mailbox. */
export function mailboxKey(fingerprint: Uint8Array, device: number): string {
  return `${Buffer.from(fingerprint).toString('hex')}:${device}`;
}

/** The presence of one process. */
export class LocalPresence implements RelayPresence {
  private readonly holders = new Map<string, PresenceHolder>();

  /** See {@link RelayPresence.claim}; a key that is not a non-empty string, or a holder without its three methods, throws `InvalidArgumentError`. */
  claim(key: string, holder: PresenceHolder): () => void {
    claimArgs(key, holder);
    const previous = this.holders.get(key);
    this.holders.set(key, holder);
    if (previous !== undefined && previous !== holder) previous.displaced();
    return () => {
      if (this.holders.get(key) === holder) this.holders.delete(key);
    };
  }

  /** See {@link RelayPresence.signal}; a bad key or signal throws `InvalidArgumentError`. */
  signal(key: string, signal: 'wake' | 'prekeys-low'): void {
    signalArgs(key, signal);
    const holder = this.holders.get(key);
    if (holder === undefined) return;
    if (signal === 'wake') holder.wake();
    else holder.prekeysLow();
  }
}
