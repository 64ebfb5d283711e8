/**
 * What a `Messenger` keeps in its vault, and the one place its layout is
 * written: the identity, the prekey set, one session per peer device (and
 * the one it replaced, for messages still in flight on it), the outbox of
 * sends not yet answered SENT, and the history of received messages.
 * Everything that changes together is staged together and committed by one
 * `vault.save()` (see messenger.ts for the order).
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors';
import type { Vault } from '../seal/vault';
import { IdentityKey } from '../session/identity';
import { PreKeySet } from '../session/prekeys';
import { Session } from '../session/session';

/** The layout's version, in `meta`; a vault written by a newer layout is refused. */
const LAYOUT = 1;

interface Meta {
  layout: number;
  device: number;
  /** The next history sequence number. */
  nextSeq: number;
  /** The next outbox sequence number. */
  nextOutbox: number;
  /** When the signed prekey was made (ms since the epoch); absent in vaults written before rotation. */
  signedAt?: number;
}

/** A received message, as the history keeps it. */
export interface ReceivedMessage {
  /** Its place in this messenger's history: increasing, never reused. */
  seq: number;
  /** The sender's identity (Ed25519 public key), as the relay's handshake proved it. */
  from: Uint8Array;
  /** The sender's device. */
  fromDevice: number;
  plaintext: Uint8Array;
  /** When the relay stored it (ms since the epoch, the relay's clock). */
  receivedAt: number;
}

/** A send not yet answered SENT: what to send again, with the same client message id. */
export interface OutboxEntry {
  seq: number;
  clientMessageId: Uint8Array;
  peer: Uint8Array;
  device: number;
  body: Uint8Array;
  /** The caller's id for the send (`send(…, { id })`), if it gave one. */
  sendId?: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
/** Sequence numbers as tags that sort as numbers do. */
const seqTag = (n: number) => n.toString().padStart(16, '0');
/** A session's tag: the peer's identity and device. */
export const sessionTag = (peer: Uint8Array, device: number) => `${hex(peer)}.${device}`;

/** `client message id (16) ‖ peer (32) ‖ device (4) ‖ send id length (2) ‖ send id ‖ body`. */
function encodeOutbox(e: OutboxEntry): Uint8Array {
  const id = Buffer.from(e.sendId ?? '');
  const out = Buffer.alloc(16 + 32 + 4 + 2 + id.length + e.body.length);
  out.set(e.clientMessageId, 0);
  out.set(e.peer, 16);
  out.writeUInt32BE(e.device, 48);
  out.writeUInt16BE(id.length, 52);
  out.set(id, 54);
  out.set(e.body, 54 + id.length);
  return out;
}

function decodeOutbox(seq: number, b: Uint8Array): OutboxEntry {
  const buf = Buffer.from(b);
  const idLength = buf.readUInt16BE(52);
  const sendId = idLength === 0 ? undefined : buf.subarray(54, 54 + idLength).toString();
  const entry = { seq, clientMessageId: buf.subarray(0, 16), peer: buf.subarray(16, 48), device: buf.readUInt32BE(48), body: buf.subarray(54 + idLength) };
  return sendId === undefined ? entry : { ...entry, sendId };
}

function encodeReceived(m: ReceivedMessage): Uint8Array {
  const out = Buffer.alloc(32 + 4 + 8 + m.plaintext.length);
  out.set(m.from, 0);
  out.writeUInt32BE(m.fromDevice, 32);
  out.writeDoubleBE(m.receivedAt, 36);
  out.set(m.plaintext, 44);
  return out;
}

function decodeReceived(seq: number, b: Uint8Array): ReceivedMessage {
  const buf = Buffer.from(b);
  return { seq, from: buf.subarray(0, 32), fromDevice: buf.readUInt32BE(32), receivedAt: buf.readDoubleBE(36), plaintext: buf.subarray(44) };
}

/**
 * The messenger's state: live objects in memory, their records staged into
 * the vault by the `stage…` methods and committed by `save()`.
 */
export class MessengerState {
  readonly identity: IdentityKey;
  readonly preKeys: PreKeySet;
  /** The session each peer device is reached on. */
  readonly sessions = new Map<string, Session>();
  /** The session each one replaced: messages the peer sent on it may still arrive. */
  readonly previous = new Map<string, Session>();
  readonly #vault: Vault;
  readonly #storageKey: Uint8Array;
  readonly #meta: Meta;

  private constructor(vault: Vault, storageKey: Uint8Array, meta: Meta, identity: IdentityKey, preKeys: PreKeySet) {
    this.#vault = vault;
    this.#storageKey = storageKey;
    this.#meta = meta;
    this.identity = identity;
    this.preKeys = preKeys;
  }

  get device(): number {
    return this.#meta.device;
  }

  /**
   * Reads the state from `vault`, or creates it there (a new identity unless
   * one is given, a prekey set, the device id) and saves it.
   */
  static async load(vault: Vault, options: { identity?: IdentityKey; device?: number; oneTimePreKeys: number }): Promise<MessengerState> {
    const meta = vault.get('meta') as Meta | undefined;
    if (meta !== undefined) {
      if (meta.layout !== LAYOUT) throw new InvalidArgumentError(`this vault holds messenger layout ${meta.layout}; this keyward reads ${LAYOUT}`);
      const storageKey = vault.get('storage-key') as Uint8Array;
      const identity = IdentityKey.deserialize(vault.get('identity') as Uint8Array, storageKey);
      if (options.identity !== undefined && options.identity.fingerprint !== identity.fingerprint) {
        throw new InvalidArgumentError('options.identity is not the identity this vault already holds');
      }
      if (options.device !== undefined && options.device !== meta.device) {
        throw new InvalidArgumentError(`options.device is not the device this vault already registered (${meta.device})`);
      }
      const preKeys = PreKeySet.deserialize(vault.get('prekeys') as Uint8Array, storageKey);
      const state = new MessengerState(vault, storageKey, meta, identity, preKeys);
      for (const [name, map] of [['sessions', state.sessions] as const, ['previous', state.previous] as const]) {
        const space = vault.namespace(name);
        for (const tag of space.tags()) map.set(tag, Session.deserialize(space.get(tag) as Uint8Array, storageKey));
      }
      return state;
    }
    const storageKey = new Uint8Array(randomBytes(32));
    const identity = options.identity ?? IdentityKey.generate();
    const preKeys = await PreKeySet.generateAsync(identity, { oneTimePreKeys: options.oneTimePreKeys, kem: true });
    // As many one-time ML-KEM keys: each start then uses one of each kind (a vault from before they
    // existed gets them at its first PREKEYS_LOW, which the relay sends while it holds fewer than 20).
    preKeys.addOneTimeKemPreKeys(options.oneTimePreKeys);
    const fresh: Meta = { layout: LAYOUT, device: options.device ?? 1, nextSeq: 1, nextOutbox: 1, signedAt: Date.now() };
    const state = new MessengerState(vault, storageKey, fresh, identity, preKeys);
    vault.set('storage-key', storageKey);
    vault.set('identity', identity.serialize(storageKey));
    state.stagePreKeys();
    state.#stageMeta();
    await vault.save();
    return state;
  }

  #stageMeta(): void {
    this.#vault.set('meta', { ...this.#meta });
  }

  /**
   * Replaces the signed prekey (and the last-resort ML-KEM key) with new ones
   * when the current one is `maxAgeMs` old or more, staging the set; `true`
   * if it did. The replaced one still accepts starts already made from it.
   * A vault from before rotation counts its signed prekey's age from now.
   */
  rotateIfDue(maxAgeMs: number, now: number): boolean {
    if (this.#meta.signedAt === undefined) {
      this.#meta.signedAt = now;
      this.#stageMeta();
    }
    if (now - this.#meta.signedAt < maxAgeMs) return false;
    this.preKeys.rotate(this.identity);
    this.#meta.signedAt = now;
    this.#stageMeta();
    this.stagePreKeys();
    return true;
  }

  /** When the signed prekey is due for rotation, `maxAgeMs` after it was made (now, for a vault from before rotation). */
  signedDueAt(maxAgeMs: number): number {
    return (this.#meta.signedAt ?? Date.now()) + maxAgeMs;
  }

  stagePreKeys(): void {
    this.#vault.set('prekeys', this.preKeys.serialize(this.#storageKey));
  }

  /** Stages the sessions of `tag`: the current one and the one it replaced, if any. */
  stageSession(tag: string): void {
    for (const [name, map] of [['sessions', this.sessions] as const, ['previous', this.previous] as const]) {
      const session = map.get(tag);
      if (session !== undefined) this.#vault.namespace(name).set(tag, session.serialize(this.#storageKey));
    }
  }

  /** Makes `session` the one `tag` is reached on, keeping the one it replaces. */
  replaceSession(tag: string, session: Session): void {
    const old = this.sessions.get(tag);
    if (old !== undefined) {
      this.previous.get(tag)?.dispose();
      this.previous.set(tag, old);
    }
    this.sessions.set(tag, session);
  }

  stageOutbox(entry: Omit<OutboxEntry, 'seq'>): OutboxEntry {
    const seq = this.#meta.nextOutbox++;
    this.#vault.namespace('outbox').set(seqTag(seq), encodeOutbox({ ...entry, seq }));
    this.#stageMeta();
    return { ...entry, seq };
  }

  unstageOutbox(seq: number): void {
    this.#vault.namespace('outbox').delete(seqTag(seq));
  }

  /** Whether outbox entry `seq` still waits for SENT. */
  inOutbox(seq: number): boolean {
    return this.#vault.namespace('outbox').has(seqTag(seq));
  }

  /** Records that the caller's send `id` became outbox entries `seqs`. */
  stageSendId(id: string, seqs: number[]): void {
    this.#vault.namespace('send-ids').set(id, seqs);
  }

  /** Forgets send `id` (it was refused): the same id sends anew. */
  unstageSendId(id: string): void {
    this.#vault.namespace('send-ids').delete(id);
  }

  /** The outbox entries send `id` became, if it was made before. */
  sendIdSeqs(id: string): number[] | undefined {
    return this.#vault.namespace('send-ids').get(id) as number[] | undefined;
  }

  /** The outbox, oldest first. */
  outbox(): OutboxEntry[] {
    const space = this.#vault.namespace('outbox');
    return space
      .tags()
      .sort()
      .map((tag) => decodeOutbox(Number(tag), space.get(tag) as Uint8Array));
  }

  stageReceived(message: Omit<ReceivedMessage, 'seq'>): ReceivedMessage {
    const seq = this.#meta.nextSeq++;
    const received = { ...message, seq };
    this.#vault.namespace('history').set(seqTag(seq), encodeReceived(received));
    this.#stageMeta();
    return received;
  }

  /** The history after `after`, oldest first. */
  history(after: number): ReceivedMessage[] {
    const space = this.#vault.namespace('history');
    return space
      .tags()
      .filter((tag) => Number(tag) > after)
      .sort()
      .map((tag) => decodeReceived(Number(tag), space.get(tag) as Uint8Array));
  }

  /** Stages the deletion of the history up to and including `through`. */
  forgetHistory(through: number): void {
    const space = this.#vault.namespace('history');
    for (const tag of space.tags()) if (Number(tag) <= through) space.delete(tag);
  }

  save(): Promise<void> {
    return this.#vault.save();
  }

  /** Drops staged changes (a step that failed half way must not be saved by the next one). */
  rollback(): void {
    this.#vault.rollback();
  }

  dispose(): void {
    for (const s of [...this.sessions.values(), ...this.previous.values()]) s.dispose();
    this.preKeys.dispose();
    this.identity.dispose();
    this.#storageKey.fill(0);
  }
}

export { fromHex, hex };
