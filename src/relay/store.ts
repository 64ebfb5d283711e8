/**
 * What the relay keeps, behind one small interface: registered devices,
 * mailboxes of end-to-end encrypted messages, and prekeys
 * (docs/relay.md, "Delivery semantics", "Prekeys", "Storage"). Two stores
 * implement it: `SqliteRelayStore` (one machine) and `PgRelayStore`
 * (several relay instances on one PostgreSQL). Both run the same contract
 * tests (__test__/relay-store.test.ts).
 *
 * The store never reads the clock: every call that depends on time takes
 * `now` (ms since the epoch), so expiry is testable and every instance
 * agrees on what the caller decided. Its limits are constructor options
 * with no defaults here: the defaults are crates/relay/src/limits.rs's,
 * passed in by the server, so they are written down once.
 */
import { InvalidArgumentError, RelayError } from '../errors';
import { binding, call } from '../native';

/** Identities (Ed25519 public keys, or the fingerprints the server keys state by) are 32 bytes. */
export const IDENTITY_LEN = binding.RELAY_KEY_LEN;
/** A client message id, the sender's idempotency key, is 16 random bytes. */
export const CLIENT_MESSAGE_ID_LEN = binding.RELAY_CLIENT_MESSAGE_ID_LEN;
/** A one-time X25519 prekey is an X25519 public key. */
export const X25519_KEY_LEN = binding.RELAY_KEY_LEN;
/** The largest device id (u32 on the wire); 0 means "every device" on the wire and is refused here. */
export const MAX_DEVICE_ID = 0xffff_ffff;

export { RelayError, type RelayErrorCode } from '../errors';

/** The limits a store enforces; the server passes crates/relay's values (or lower ones it is configured with). */
export interface RelayStoreLimits {
  /** Messages one mailbox holds at most (`DEFAULT_QUOTA_MESSAGES`). */
  quotaMessages: number;
  /** Body bytes one mailbox holds at most (`DEFAULT_QUOTA_BYTES`). */
  quotaBytes: number;
  /** How long a message waits for its ack, and its idempotency key is kept, in ms (`DEFAULT_TTL_MS`). */
  ttlMs: number;
  /** One-time prekeys of each kind one device holds at most (`MAX_ONE_TIME_STORED`). */
  maxOneTimeStored: number;
  /** Devices one identity may register (`MAX_DEVICES`). */
  maxDevices: number;
}

/** One device's mailbox. */
export interface Mailbox {
  /** 32 bytes. */
  identity: Uint8Array;
  /** 1 to 2^32 − 1. */
  device: number;
}

/** What `enqueue` stores. */
export interface EnqueueInput {
  /** The recipient identity (32 bytes). */
  recipient: Uint8Array;
  /** The recipient's device (≠ 0, registered). */
  device: number;
  /** The sender identity as its handshake claimed it (32 bytes), delivered as is. */
  sender: Uint8Array;
  senderDevice: number;
  /** 16 bytes; with the sender, sender device and mailbox, the idempotency key. */
  clientMessageId: Uint8Array;
  /** The ciphertext, opaque to the relay. */
  body: Uint8Array;
  /** The relay's time (ms since the epoch): the message's "received at", and the start of its TTL. */
  now: number;
}

/** What `enqueue` answers: the SENT frame's contents for this copy. */
export interface Enqueued {
  /** Per mailbox, increasing in commit order from 1. */
  messageId: number;
  /** When the first copy was stored (a retry answers the first copy's time). */
  storedAt: number;
  /** True when this was a retry: nothing new was stored. */
  duplicate: boolean;
}

/** What `enqueueAll` stores: one copy in every registered device's mailbox of the recipient (SEND to device 0). */
export type EnqueueAllInput = Omit<EnqueueInput, 'device'>;

/** What `enqueueAll` answers. */
export interface EnqueuedAll {
  /** One per mailbox the message is in, by device ascending (SENT's `copies` is their number). */
  copies: { device: number; messageId: number }[];
  /** When the copies were stored (a retry answers the first send's time). */
  storedAt: number;
  /** True when this was a retry: nothing new was stored. */
  duplicate: boolean;
}

/** A message waiting in a mailbox: the DELIVER frame's contents. */
export interface StoredMessage {
  messageId: number;
  sender: Uint8Array;
  senderDevice: number;
  receivedAt: number;
  body: Uint8Array;
}

/** A one-time prekey: X25519 (32 bytes), or ML-KEM (id ‖ key ‖ signature as BUNDLE carries it, without the id: key ‖ signature). */
export interface OneTimePrekey {
  /** 1 to 2^32 − 1; ascending within an upload, above every id ever accepted for its kind on the device. */
  id: number;
  key: Uint8Array;
}

/**
 * The signed prekey section exactly as uploaded (docs/relay.md "Prekeys":
 * signed prekey id ‖ key ‖ last-resort ML-KEM flag ‖ [id ‖ key] ‖ signature).
 * The last-resort ML-KEM key is inside it, signed with it, so it is stored
 * and replaced with it.
 */
export interface SignedPrekeySection {
  /** The signed prekey id (1 to 2^32 − 1), which the section also holds. */
  id: number;
  bytes: Uint8Array;
}

/** What `uploadPrekeys` stores; the server has verified every signature before calling. */
export interface PrekeyUploadInput {
  signed?: SignedPrekeySection;
  oneTime?: readonly OneTimePrekey[];
  oneTimeKem?: readonly OneTimePrekey[];
}

/** A device's prekey status: the PREKEYS_STORED / PREKEYS_LOW body. */
export interface PrekeyStatus {
  /** One-time X25519 prekeys held. */
  oneTime: number;
  /** One-time ML-KEM prekeys held. */
  oneTimeKem: number;
  /** The current signed prekey id; 0 when none was uploaded. */
  signedId: number;
  /** The highest one-time X25519 id ever accepted; 0 when none. */
  maxOneTimeId: number;
  /** The highest one-time ML-KEM id ever accepted; 0 when none. */
  maxOneTimeKemId: number;
}

/** What `claimBundle` took: the parts of a BUNDLE frame, and what is left (for PREKEYS_LOW). */
export interface ClaimedBundle {
  signed: SignedPrekeySection;
  /** The lowest-id one-time X25519 prekey, now deleted; absent when none was left. */
  oneTime?: OneTimePrekey;
  /** The lowest-id one-time ML-KEM prekey, now deleted; absent when none was left. */
  oneTimeKem?: OneTimePrekey;
  /** One-time prekeys of each kind left after this claim. */
  left: { oneTime: number; oneTimeKem: number };
}

/** The relay's storage: devices, mailboxes and prekeys. Every method commits before it resolves. */
export interface RelayStore {
  /**
   * Registers `device` of `identity` (creating its mailbox); registering it
   * again changes nothing (`created: false`). More than `maxDevices` devices
   * for one identity → `RelayError` `ERR_RELAY_QUOTA`.
   */
  registerDevice(identity: Uint8Array, device: number, now: number): Promise<{ created: boolean }>;
  /** The identity's registered devices, ascending; empty when it has none. */
  listDevices(identity: Uint8Array): Promise<number[]>;
  /**
   * Stores a message in the recipient device's mailbox, durably, before it
   * resolves. A retry (same sender, sender device, client message id and
   * mailbox, within the TTL, even after an ack) stores nothing and answers
   * the first copy's id and time. A mailbox over its quota in messages or
   * bytes → `ERR_RELAY_QUOTA`, an unregistered device →
   * `ERR_RELAY_UNKNOWN_RECIPIENT`; nothing is stored either way.
   */
  enqueue(message: EnqueueInput): Promise<Enqueued>;
  /**
   * Stores one copy in each registered device's mailbox of the recipient,
   * all or nothing (SEND to device 0): one mailbox over its quota →
   * `ERR_RELAY_QUOTA` and no copy is stored; no device registered →
   * `ERR_RELAY_UNKNOWN_RECIPIENT`. The idempotency key covers every copy: a
   * retry that finds it in any of the mailboxes stores nothing (not even in
   * a device registered since) and answers the copies that have it.
   */
  enqueueAll(message: EnqueueAllInput): Promise<EnqueuedAll>;
  /** Unacked, unexpired messages of the mailbox with an id above `after` (0 by default), in order, at most `limit`. */
  pending(mailbox: Mailbox, options: { after?: number; limit: number; now: number }): Promise<StoredMessage[]>;
  /** Deletes the named messages of this mailbox only; ids not in it are ignored (acks are idempotent). Resolves to the number deleted. */
  ack(mailbox: Mailbox, messageIds: readonly number[]): Promise<number>;
  /** Deletes every message and idempotency key whose TTL ended at `now`; resolves to the number of messages deleted. */
  purgeExpired(now: number): Promise<number>;
  /**
   * Stores prekeys for a device, all or nothing, and answers its status (an
   * empty upload only reads it). Refusals: a first upload without a signed
   * section → `ERR_RELAY_NOT_ALLOWED`; a signed id below the current one, or
   * equal with other bytes, or a one-time id not above the highest ever
   * accepted for its kind → `ERR_RELAY_STALE_KEY_ID`; ids not ascending
   * within the upload → `ERR_RELAY_MALFORMED`; more than `maxOneTimeStored`
   * of a kind held → `ERR_RELAY_QUOTA`.
   */
  uploadPrekeys(identity: Uint8Array, device: number, upload: PrekeyUploadInput): Promise<PrekeyStatus>;
  /**
   * Atomically takes (deletes) the lowest-id one-time prekey of each kind,
   * each kind on its own, and returns them with the signed section. Two
   * concurrent claims never get the same key. A device that never uploaded →
   * `ERR_RELAY_UNKNOWN_RECIPIENT`.
   */
  claimBundle(identity: Uint8Array, device: number): Promise<ClaimedBundle>;
  /** The device's prekey status (all zeros for a device that never uploaded). */
  prekeyCounts(identity: Uint8Array, device: number): Promise<PrekeyStatus>;
  /** Closes what the store opened; later calls throw `InvalidStateError`. A second call does nothing. */
  close(): Promise<void>;
}

// ---- argument checks shared by both stores (bad input is refused before any SQL runs) ----

/** @internal */
export function bytesArg(value: unknown, name: string, length?: number): Uint8Array {
  // `isView` first: a Proxy around a Uint8Array passes `instanceof`, then throws a bare TypeError at `.length`.
  if (!(ArrayBuffer.isView(value) && value instanceof Uint8Array)) throw new InvalidArgumentError(`${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) throw new InvalidArgumentError(`${name} must be ${length} bytes, not ${value.length}`);
  return value;
}

/** @internal An identity: 32 bytes. */
export const identityArg = (value: unknown, name = 'identity') => bytesArg(value, name, IDENTITY_LEN);

/** @internal A device id: 1 to 2^32 − 1. */
export function deviceArg(value: unknown, name = 'device'): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_DEVICE_ID) {
    throw new InvalidArgumentError(`${name} must be an integer from 1 to ${MAX_DEVICE_ID}`);
  }
  return value as number;
}

/** @internal A prekey id: 1 to 2^32 − 1 (the same range as a device). */
export const keyIdArg = (value: unknown, name: string) => deviceArg(value, name);

/** @internal Whole ms ≥ 0. */
export function timeArg(value: unknown, name = 'now'): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new InvalidArgumentError(`${name} must be whole ms ≥ 0`);
  return value as number;
}

/** @internal A whole number ≥ `min`. */
export function countArg(value: unknown, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}`);
  return value as number;
}

/** @internal A mailbox. */
export function mailboxArg(value: unknown): Mailbox {
  const m = value as Mailbox;
  if (typeof m !== 'object' || m === null) throw new InvalidArgumentError('mailbox must be { identity, device }');
  return { identity: identityArg(m.identity, 'mailbox.identity'), device: deviceArg(m.device, 'mailbox.device') };
}

/** @internal The limits, each a whole number ≥ 1. */
export function limitsArg(value: unknown): RelayStoreLimits {
  const l = value as RelayStoreLimits;
  if (typeof l !== 'object' || l === null) throw new InvalidArgumentError('options.limits must be given (the server passes crates/relay limits)');
  const names = ['quotaMessages', 'quotaBytes', 'ttlMs', 'maxOneTimeStored', 'maxDevices'] as const;
  const limits = Object.fromEntries(names.map((name) => [name, countArg(l[name], `options.limits.${name}`, 1)])) as unknown as RelayStoreLimits;
  // The protocol's own caps: a relay may keep fewer, never more.
  const caps = { maxOneTimeStored: binding.RELAY_MAX_ONE_TIME_STORED, maxDevices: binding.RELAY_MAX_DEVICES };
  for (const [name, cap] of Object.entries(caps) as [keyof typeof caps, number][]) {
    if (limits[name] > cap) throw new InvalidArgumentError(`options.limits.${name} must be at most ${cap}`);
  }
  return limits;
}

/** @internal An enqueue's input, checked. */
export function enqueueArg(value: unknown): EnqueueInput {
  const m = value as EnqueueInput;
  if (typeof m !== 'object' || m === null)
    throw new InvalidArgumentError('enqueue takes { recipient, device, sender, senderDevice, clientMessageId, body, now }');
  return { ...enqueueAllArg(m), device: deviceArg(m.device) };
}

/**
 * A message body. A zero-length one is replaced by a fresh empty array: a
 * zero-length view may be detached, and Node 22's `node:sqlite` binds a
 * detached view as NULL (its NOT NULL column then refuses the insert).
 */
function bodyArg(value: unknown): Uint8Array {
  const body = bytesArg(value, 'body');
  return body.byteLength === 0 ? new Uint8Array(0) : body;
}

/** @internal An enqueueAll's input, checked. */
export function enqueueAllArg(value: unknown): EnqueueAllInput {
  const m = value as EnqueueAllInput;
  if (typeof m !== 'object' || m === null) throw new InvalidArgumentError('enqueueAll takes { recipient, sender, senderDevice, clientMessageId, body, now }');
  return {
    recipient: identityArg(m.recipient, 'recipient'),
    sender: identityArg(m.sender, 'sender'),
    senderDevice: deviceArg(m.senderDevice, 'senderDevice'),
    clientMessageId: bytesArg(m.clientMessageId, 'clientMessageId', CLIENT_MESSAGE_ID_LEN),
    body: bodyArg(m.body),
    now: timeArg(m.now),
  };
}

/** @internal `pending`'s options, checked. */
export function pendingArg(value: unknown): { after: number; limit: number; now: number } {
  const o = value as { after?: number; limit: number; now: number };
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('pending takes { after?, limit, now }');
  return { after: o.after === undefined ? 0 : countArg(o.after, 'after', 0), limit: countArg(o.limit, 'limit', 1), now: timeArg(o.now) };
}

/** @internal Message ids to ack: whole numbers ≥ 1, de-duplicated. */
export function messageIdsArg(value: unknown): number[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError('messageIds must be an array');
  return [...new Set(value.map((id, i) => countArg(id, `messageIds[${i}]`, 1)))];
}

/** @internal An upload, checked for shape and for ascending ids within it (the store checks the rest against what it holds). */
export function uploadArg(value: unknown): { signed?: SignedPrekeySection; oneTime: OneTimePrekey[]; oneTimeKem: OneTimePrekey[] } {
  const u = value as PrekeyUploadInput;
  if (typeof u !== 'object' || u === null) throw new InvalidArgumentError('uploadPrekeys takes { signed?, oneTime?, oneTimeKem? }');
  let signed: SignedPrekeySection | undefined;
  if (u.signed !== undefined) {
    if (typeof u.signed !== 'object' || u.signed === null) throw new InvalidArgumentError('signed must be { id, bytes }');
    signed = { id: keyIdArg(u.signed.id, 'signed.id'), bytes: bytesArg(u.signed.bytes, 'signed.bytes') };
    if (signed.bytes.length === 0) throw new InvalidArgumentError('signed.bytes must not be empty');
  }
  const list = (keys: unknown, name: string, keyLength?: number): OneTimePrekey[] => {
    if (keys === undefined) return [];
    if (!Array.isArray(keys)) throw new InvalidArgumentError(`${name} must be an array`);
    const out = keys.map((k: OneTimePrekey, i) => {
      if (typeof k !== 'object' || k === null) throw new InvalidArgumentError(`${name}[${i}] must be { id, key }`);
      const key = bytesArg(k.key, `${name}[${i}].key`, keyLength);
      if (key.length === 0) throw new InvalidArgumentError(`${name}[${i}].key must not be empty`);
      return { id: keyIdArg(k.id, `${name}[${i}].id`), key };
    });
    for (let i = 1; i < out.length; i++) {
      if (out[i].id <= out[i - 1].id) throw new RelayError(`${name} ids must ascend within an upload`, 'ERR_RELAY_MALFORMED');
    }
    return out;
  };
  return { signed, oneTime: list(u.oneTime, 'oneTime', X25519_KEY_LEN), oneTimeKem: list(u.oneTimeKem, 'oneTimeKem') };
}

/** @internal Kinds of one-time prekeys, as stored. */
export const ONE_TIME_X25519 = 0;
/** @internal */
export const ONE_TIME_KEM = 1;

/**
 * @internal The checks of an upload against the device's current status and
 * stored signed section (read inside the upload's transaction), shared by
 * both stores: crates/relay's `check_upload_against`, so the rules are
 * written once. Throws the typed refusal (a section that does not parse is
 * `ERR_RELAY_MALFORMED`); returns the signed section to write when it changes.
 */
export function checkUpload(
  status: PrekeyStatus & { signedBytes?: Uint8Array },
  upload: ReturnType<typeof uploadArg>,
  maxOneTimeStored: number,
): { replaceSigned?: SignedPrekeySection } {
  const replace = call(() => binding.relayCheckUpload(status, status.signedBytes ?? null, upload, maxOneTimeStored));
  return replace ? { replaceSigned: upload.signed } : {};
}

/** @internal The refusal of a full mailbox (no numbers about the mailbox in it: they are the recipient's). */
export const quotaError = () => new RelayError("the recipient's mailbox is full; nothing was stored", 'ERR_RELAY_QUOTA');
/**
 * @internal The database cannot be reached or is locked too long: the wire's
 * UNAVAILABLE. The database's own error is kept as `cause` (for logs), out of
 * the message: it may name hosts or users. A retry is safe: sends are
 * idempotent, claims and acks take effect once.
 */
export function unavailable(cause: unknown): RelayError {
  const error = new RelayError('the relay store is unavailable; retry later', 'ERR_RELAY_UNAVAILABLE');
  Object.defineProperty(error, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  return error;
}
/** @internal */
export const unknownDevice = () => new RelayError('no such device is registered', 'ERR_RELAY_UNKNOWN_RECIPIENT');
/** @internal */
export const tooManyDevices = (max: number) => new RelayError(`an identity may register at most ${max} devices`, 'ERR_RELAY_QUOTA');
/** @internal */
export const noPrekeys = () => new RelayError('the device has no prekeys uploaded', 'ERR_RELAY_UNKNOWN_RECIPIENT');
