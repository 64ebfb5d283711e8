/**
 * `Messenger`: end-to-end encrypted messaging through a keyward relay, with
 * everything it must not lose in a `Vault` (docs/relay.md, "The Messenger").
 *
 * Why it can be killed at any instant and lose nothing nor store anything
 * twice:
 * - A send is encrypted and put in the outbox, with the session state it
 *   advanced, in one vault commit before it goes out; it leaves the outbox
 *   only when the relay answered SENT (that removal rides the next commit). Until then it is sent again, with the
 *   same client message id, after every reconnect and every restart, and the
 *   relay stores one copy.
 * - A delivery is decrypted, and its plaintext added to the history with the
 *   session (and prekey) state it changed, in one vault commit (deliveries
 *   that arrive together share it); only then is it acked. A delivery the relay sends again (it was not acked yet) finds
 *   the ratchet past it (`ERR_SESSION_DUPLICATE`): it is acked and dropped.
 * - Every change to the vault runs in one queue (`#serial`), so a commit
 *   never interleaves with another step's staging.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type TextOrBytes, textOrBytes } from '../bytes';
import { InvalidArgumentError, InvalidStateError, type RelayError } from '../errors';
import { binding, call } from '../native';
import type { Vault } from '../seal/vault';
import type { IdentityKey } from '../session/identity';
import { type OneTimeKemPreKey, Session } from '../session/session';
import { endpointArg, RelayConnection, type RelayConnectOptions, type RelayDelivery, type RelayEndpoint } from './connection';
import { MessengerState, type OutboxEntry, type ReceivedMessage, sessionTag } from './messenger-state';
import { bytesArg } from './store';
import { keepAliveArg } from './transport';
import { relayError } from './wire';

export type { ReceivedMessage } from './messenger-state';

/** Options of {@link Messenger.open}. */
export interface MessengerOptions {
  /** Where the messenger keeps its identity, prekeys, sessions, outbox and history (a namespace of it). */
  vault: Vault;
  /** The relay: `{ url: 'wss://…' }` (with `ca` if need be) or `{ tcp: { host, port } }`; or give `relayUrl`. */
  relay?: RelayEndpoint;
  /** The relay's WebSocket URL (`ws://` or `wss://`): short for `relay: { url }`. One of `relay` and `relayUrl`. */
  relayUrl?: string;
  /** The relay's public key (32 bytes), pinned. */
  relayPublicKey: Uint8Array;
  /** The identity to use the first time (a new one is generated otherwise); later opens must pass the same or none. */
  identity?: IdentityKey;
  /** This device's id the first time (1 by default); later opens must pass the same or none. */
  device?: number;
  /**
   * One-time prekeys kept at the relay, of each kind: as many X25519 ones and as many ML-KEM-768
   * ones (1 to 100; 100 by default). A peer's first message uses one of each while the relay has
   * some left, else the last-resort keys of the signed section.
   */
  oneTimePreKeys?: number;
  /** Reconnect backoff: the first delay and the cap, in ms (250 and 30 000 by default). */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** How often the connection pings the relay, in ms (30 000 by default; 0: never): see {@link RelayConnectOptions.keepAliveMs}. */
  keepAliveMs?: number;
  /**
   * How long a peer's device list is trusted, in ms (60 000 by default; 0:
   * listed again at every send). A send after that lists the peer's devices
   * again (one LIST_DEVICES) and starts sessions with devices it added, so
   * a new device of the peer gets messages without writing first.
   */
  deviceListTtlMs?: number;
  /**
   * How old the signed prekey (and the last-resort ML-KEM key under its
   * signature) may get before it is replaced, in ms (two days by default, as
   * Signal's clients do). A new one is made, committed and uploaded at the
   * first connection or refill after that, or while connected; the one it
   * replaces still accepts starts made from it, the one before is forgotten,
   * so a session start cannot be decrypted with keys older than that.
   */
  signedPreKeyMaxAgeMs?: number;
}

/** The events of a {@link Messenger}. */
export interface MessengerEvents {
  /** A message, once it is in the history (committed) and acked. */
  message: [message: ReceivedMessage];
  /** Connected and registered (again), and the prekeys uploaded. */
  connected: [];
  /** The connection ended; the messenger reconnects with backoff unless closed or displaced. */
  disconnected: [error?: Error];
  /** Another connection registered this identity and device: this messenger stops and does not reconnect. */
  displaced: [];
  /** Something went wrong that the messenger worked around: a delivery it could not decrypt (acked and dropped), a refused prekey upload. */
  warning: [error: Error];
}

/** How long a send waits at most for a peer's devices to be listed again (the connection may be dead). */
const RELIST_TIMEOUT_MS = 5000;

/** A peer device's prekey bundle as the relay handed it out. */
type Bundle = { device: number; bundle: Uint8Array; oneTimeKem?: OneTimeKemPreKey };

/** A send waiting for SENT. */
type Waiting = { resolve: () => void; reject: (error: Error) => void; left: number };

const errorCode = (e: unknown) => (e as { code?: unknown } | null)?.code;
/** A crates/session start message (`0x01 0x02`): the first ones of a session, before the peer answered. */
const isStart = (body: Uint8Array) => body[0] === 0x01 && body[1] === 0x02;
/** Refusals worth waiting out; every other refusal of a send is final. */
const TRANSIENT = new Set(['ERR_RELAY_RATE_LIMITED', 'ERR_RELAY_UNAVAILABLE']);

function optionsArg(o: MessengerOptions) {
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('Messenger.open takes { vault, relay or relayUrl, relayPublicKey }');
  if (typeof (o.vault as { namespace?: unknown } | undefined)?.namespace !== 'function') throw new InvalidArgumentError('options.vault must be a Vault');
  if ((o.relay === undefined) === (o.relayUrl === undefined)) throw new InvalidArgumentError('Messenger.open takes one of options.relay and options.relayUrl');
  // Checked here, not at the first connect: a bad endpoint is the caller's mistake, not a reason to retry forever.
  if (o.relayUrl !== undefined && typeof o.relayUrl !== 'string') throw new InvalidArgumentError('options.relayUrl must be a ws:// or wss:// URL');
  const endpoint = endpointArg(o.relay ?? { url: o.relayUrl as string });
  const relayKey = new Uint8Array(bytesArg(o.relayPublicKey, 'options.relayPublicKey', binding.RELAY_KEY_LEN));
  const oneTime = o.oneTimePreKeys ?? binding.RELAY_MAX_ONE_TIME_STORED;
  if (!Number.isInteger(oneTime) || oneTime < 1 || oneTime > binding.RELAY_MAX_ONE_TIME_STORED) {
    throw new InvalidArgumentError(`options.oneTimePreKeys must be an integer from 1 to ${binding.RELAY_MAX_ONE_TIME_STORED}`);
  }
  if (o.device !== undefined && (!Number.isInteger(o.device) || o.device < 1 || o.device > 0xffff_ffff)) {
    throw new InvalidArgumentError('options.device must be an integer from 1 to 4294967295');
  }
  const minDelayMs = o.reconnect?.minDelayMs ?? 250;
  const maxDelayMs = o.reconnect?.maxDelayMs ?? 30_000;
  if (!Number.isSafeInteger(minDelayMs) || minDelayMs < 1 || !Number.isSafeInteger(maxDelayMs) || maxDelayMs < minDelayMs) {
    throw new InvalidArgumentError('options.reconnect needs whole numbers 1 ≤ minDelayMs ≤ maxDelayMs');
  }
  const deviceListTtlMs = o.deviceListTtlMs ?? 60_000;
  if (!Number.isSafeInteger(deviceListTtlMs) || deviceListTtlMs < 0) throw new InvalidArgumentError('options.deviceListTtlMs must be a whole number ≥ 0');
  const signedPreKeyMaxAgeMs = o.signedPreKeyMaxAgeMs ?? 2 * 24 * 3600_000;
  if (!Number.isSafeInteger(signedPreKeyMaxAgeMs) || signedPreKeyMaxAgeMs < 1) {
    throw new InvalidArgumentError('options.signedPreKeyMaxAgeMs must be a whole number ≥ 1');
  }
  return { endpoint, relayKey, oneTime, minDelayMs, maxDelayMs, keepAliveMs: keepAliveArg(o.keepAliveMs), deviceListTtlMs, signedPreKeyMaxAgeMs };
}

/** A copy of `peer`, an identity public key. */
const peerArg = (peer: unknown): Uint8Array => new Uint8Array(bytesArg(peer, 'peer', binding.RELAY_KEY_LEN));

/**
 * Messaging through a relay: one identity and device, one session per peer
 * device, all persisted in a vault. Open with {@link Messenger.open}; read
 * with {@link messages} (live) and {@link history} (what is stored).
 */
export class Messenger extends EventEmitter<MessengerEvents> {
  readonly #state: MessengerState;
  readonly #endpoint: RelayEndpoint;
  readonly #relayKey: Uint8Array;
  readonly #o: ReturnType<typeof optionsArg>;
  /** When each peer's devices were last listed (by session-tag prefix), in this process. */
  readonly #listedAt = new Map<string, number>();
  #conn: RelayConnection | undefined;
  #work: Promise<unknown> = Promise.resolve();
  #closed = false;
  #displaced = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The next check of the signed prekey's age while connected. */
  #rotation: NodeJS.Timeout | undefined;
  readonly #retries = new Set<NodeJS.Timeout>();
  #onConnect: (() => void)[] = [];
  /** The sends waiting for each outbox entry (a send made again with its id waits too). */
  readonly #waiting = new Map<number, Waiting[]>();
  /** Deliveries waiting for `#receive`. */
  readonly #deliveries: { conn: RelayConnection; d: RelayDelivery }[] = [];
  #wake: (() => void)[] = [];

  private constructor(state: MessengerState, o: ReturnType<typeof optionsArg>) {
    super();
    this.#state = state;
    this.#endpoint = o.endpoint;
    this.#relayKey = o.relayKey;
    this.#o = o;
  }

  /**
   * Opens the messenger kept in `options.vault` (creating it the first
   * time), then connects in the background: `connected` says when. Sends
   * made before that wait for the connection.
   */
  static async open(options: MessengerOptions): Promise<Messenger> {
    const o = optionsArg(options);
    const vault = options.vault.namespace('keyward.messenger');
    const state = await MessengerState.load(vault, { identity: options.identity, device: options.device, oneTimePreKeys: o.oneTime });
    const messenger = new Messenger(state, o);
    messenger.#connect();
    return messenger;
  }

  /** This messenger's identity (its public key is what peers send to). */
  get identity(): IdentityKey {
    return this.#state.identity;
  }

  get device(): number {
    return this.#state.device;
  }

  /** Whether a registered connection is up now. */
  get connected(): boolean {
    return this.#conn !== undefined;
  }

  /**
   * Sends `plaintext` to every device of `peer` (an identity public key):
   * resolves once the relay answered SENT for each, which may be after
   * reconnects; rejects with `RelayError` for a final refusal
   * (`ERR_RELAY_UNKNOWN_RECIPIENT`, `ERR_RELAY_TOO_LARGE`, `ERR_RELAY_QUOTA`…),
   * or `InvalidStateError` once closed. A peer's first message fetches its
   * bundle, which must be signed by `peer`.
   *
   * `options.id` makes the send idempotent across restarts: a send with an
   * id this messenger already took sends nothing new and settles with the
   * first (an application that was killed sends again whatever it did not
   * see resolve, with the same ids). A send refused for good forgets its id:
   * sending it again with that id sends anew (to every device, also those
   * that had it when only some refused).
   */
  async send(peer: Uint8Array, plaintext: TextOrBytes, options?: { id?: string }): Promise<void> {
    const to = peerArg(peer);
    const body = textOrBytes(plaintext, 'plaintext');
    const id = options?.id;
    if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 200)) {
      throw new InvalidArgumentError('options.id must be a string of 1 to 200 characters');
    }
    this.#live();
    const before = id === undefined ? undefined : await this.#serial(() => this.#state.sendIdSeqs(id));
    if (before !== undefined) return this.#settled(before);
    const devices = await this.#sessionsWith(to);
    const seqs = await this.#serial(async () => {
      this.#live(); // closed while the devices were listed: the state is gone
      const again = id === undefined ? undefined : this.#state.sendIdSeqs(id);
      if (again !== undefined) return again;
      const staged = devices.map((device) => {
        const tag = sessionTag(to, device);
        const cipher = (this.#state.sessions.get(tag) as Session).encrypt(body);
        this.#state.stageSession(tag);
        const entry = { clientMessageId: new Uint8Array(randomBytes(16)), peer: to, device, body: cipher };
        return this.#state.stageOutbox(id === undefined ? entry : { ...entry, sendId: id });
      });
      if (id !== undefined)
        this.#state.stageSendId(
          id,
          staged.map((e) => e.seq),
        );
      await this.#state.save();
      for (const e of staged) queueMicrotask(() => this.#transmit(e));
      return staged.map((e) => e.seq);
    });
    return this.#settled(seqs);
  }

  /** Settles when every outbox entry of `seqs` was answered (at once for those answered already). */
  #settled(seqs: number[]): Promise<void> {
    const open = seqs.filter((seq) => this.#state.inOutbox(seq));
    if (open.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiting: Waiting = { resolve, reject, left: open.length };
      for (const seq of open) this.#waiting.set(seq, [...(this.#waiting.get(seq) ?? []), waiting]);
    });
  }

  /**
   * The messages received from now on, as they are committed; ends when the
   * messenger closes. What arrived before is in {@link history}.
   */
  messages(): AsyncIterableIterator<ReceivedMessage> {
    const queue: ReceivedMessage[] = [];
    const listener = (m: ReceivedMessage) => {
      queue.push(m);
      for (const wake of this.#wake.splice(0)) wake();
    };
    this.on('message', listener);
    const stop = () => {
      this.off('message', listener);
      return Promise.resolve({ done: true as const, value: undefined });
    };
    const iterator: AsyncIterableIterator<ReceivedMessage> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (queue.length === 0) {
          if (this.#closed) return stop();
          await new Promise<void>((wake) => this.#wake.push(wake));
        }
        return { done: false, value: queue.shift() as ReceivedMessage };
      },
      return: stop,
    };
    return iterator;
  }

  /**
   * The stored history after `after` (a `seq`; 0 by default), oldest first,
   * once the commits in progress are done (the vault is not read during a
   * commit). Rejects with `InvalidArgumentError` for a bad `after`, with
   * `InvalidStateError` once closed.
   */
  async history(options?: { after?: number }): Promise<ReceivedMessage[]> {
    const after = options?.after ?? 0;
    if (!Number.isSafeInteger(after) || after < 0) throw new InvalidArgumentError('options.after must be a whole number ≥ 0');
    this.#live();
    return this.#serial(() => {
      this.#live();
      return this.#state.history(after);
    });
  }

  /** Deletes the history up to and including `through` (a `seq`), committed when it resolves. */
  forget(through: number): Promise<void> {
    if (!Number.isSafeInteger(through) || through < 0) throw new InvalidArgumentError('through must be a whole number ≥ 0');
    this.#live();
    return this.#serial(() => {
      this.#state.forgetHistory(through);
      return this.#state.save();
    });
  }

  /** Disconnects and stops; pending sends stay in the outbox for the next open. The vault stays open (it is the caller's). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#rotation);
    for (const t of this.#retries) clearTimeout(t);
    for (const wake of this.#wake.splice(0)) wake();
    for (const resolve of this.#onConnect.splice(0)) resolve();
    const closed = new InvalidStateError('the messenger was closed; the send stays in the outbox for the next open');
    for (const w of new Set([...this.#waiting.values()].flat())) w.reject(closed);
    this.#waiting.clear();
    await this.#conn?.close();
    await this.#work.catch(() => undefined);
    // What is staged and not committed yet (outbox removals) is committed now; losing it would only resend.
    await this.#state.save().catch(() => undefined);
    this.#state.dispose();
  }

  #live(): void {
    if (this.#closed) throw new InvalidStateError('the messenger was closed');
  }

  /** Runs `step` after every step before it; a failed step does not stop the ones after. */
  #serial<T>(step: () => T | Promise<T>): Promise<T> {
    const run = this.#work.then(step, step);
    this.#work = run.catch(() => undefined);
    return run;
  }

  /**
   * The devices of `peer` to send to, each with a session. The first send
   * lists them and starts a session per device that has prekeys at the relay
   * (waiting for a connection). Later sends use the sessions there are; once
   * the list is older than `deviceListTtlMs` and a connection is open, they
   * list the devices again and start sessions with those the peer added.
   * That one try never holds a send up for long: without a connection, after
   * RELIST_TIMEOUT_MS, or when the relay refuses on the way, the send goes to
   * the devices known. A forged bundle fails the send either way.
   */
  async #sessionsWith(peer: Uint8Array): Promise<number[]> {
    const prefix = sessionTag(peer, 0).slice(0, -1);
    const known = [...this.#state.sessions.keys()].filter((t) => t.startsWith(prefix)).map((t) => Number(t.slice(prefix.length)));
    if (known.length === 0) {
      const bundles = await this.#bundlesOf(peer);
      if (bundles.length === 0) throw relayError('no device of the peer has prekeys at the relay yet', 'ERR_RELAY_UNKNOWN_RECIPIENT');
      this.#listedAt.set(prefix, Date.now());
      await this.#start(peer, bundles);
      return bundles.map((b) => b.device);
    }
    const listedAt = this.#listedAt.get(prefix);
    const conn = this.#conn;
    if ((listedAt !== undefined && Date.now() - listedAt < this.#o.deviceListTtlMs) || conn === undefined) return known;
    const listing = this.#newBundles(conn, peer, new Set(known));
    listing.catch(() => undefined); // given up on below when it is late; its failure is nobody's then
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, RELIST_TIMEOUT_MS, undefined);
    });
    const added = await Promise.race([listing, late]).catch(() => undefined);
    clearTimeout(timer);
    if (added === undefined) return known;
    this.#listedAt.set(prefix, Date.now());
    await this.#start(peer, added);
    return [...known, ...added.map((b) => b.device)];
  }

  /**
   * Starts a session from each bundle, committed. Every bundle is checked
   * (signed by `peer`) before any session is kept: a forged one throws, and
   * the sessions made before it are wiped.
   */
  async #start(peer: Uint8Array, bundles: Bundle[]): Promise<void> {
    if (bundles.length === 0) return;
    const started: { tag: string; session: Session }[] = [];
    try {
      for (const { device, bundle, oneTimeKem } of bundles) {
        // The one-time ML-KEM key claimed with the bundle, if the relay had one left (else the bundle's last-resort key).
        started.push({ tag: sessionTag(peer, device), session: Session.fromBundle(this.#state.identity, bundle, { expectedPeer: peer, oneTimeKem }) });
      }
    } catch (error) {
      for (const { session } of started) session.dispose();
      throw error;
    }
    await this.#serial(async () => {
      if (this.#closed) {
        for (const { session } of started) session.dispose();
        throw new InvalidStateError('the messenger was closed');
      }
      for (const { tag, session } of started) {
        if (this.#state.sessions.has(tag)) {
          session.dispose();
          continue;
        }
        this.#state.replaceSession(tag, session);
        this.#state.stageSession(tag);
      }
      await this.#state.save();
    });
  }

  /**
   * The devices the relay lists for `peer` that are not in `known`, with a
   * bundle each, on `conn`. A listed device whose bundle the relay does not
   * have (registered, prekeys not uploaded yet) is left out.
   */
  async #newBundles(conn: RelayConnection, peer: Uint8Array, known: Set<number>): Promise<Bundle[]> {
    const { devices } = await conn.request({ type: 'ListDevices', identity: peer });
    const bundles: Bundle[] = [];
    for (const device of devices.filter((d) => !known.has(d))) {
      try {
        const { bundle, oneTimeKem } = await conn.request({ type: 'GetBundle', identity: peer, device });
        bundles.push(oneTimeKem ? { device, bundle, oneTimeKem } : { device, bundle });
      } catch (error) {
        if (errorCode(error) !== 'ERR_RELAY_UNKNOWN_RECIPIENT') throw error;
      }
    }
    return bundles;
  }

  /**
   * A bundle for each device of `peer`, fetched again on the next connection
   * when this one ends under the requests, or after the wait the relay asks
   * for (RATE_LIMITED, UNAVAILABLE); other refusals are the send's.
   */
  async #bundlesOf(peer: Uint8Array): Promise<Bundle[]> {
    for (;;) {
      const conn = await this.#connection();
      try {
        return await this.#newBundles(conn, peer, new Set());
      } catch (error) {
        const code = String(errorCode(error));
        if (code !== 'ERR_RELAY_CLOSED' && !TRANSIENT.has(code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, (error as RelayError).retryAfterMs ?? this.#o.minDelayMs));
      }
    }
  }

  /** The connection, once there is one. */
  async #connection(): Promise<RelayConnection> {
    while (this.#conn === undefined) {
      this.#live();
      if (this.#displaced) throw new InvalidStateError('another connection took this device over');
      await new Promise<void>((resolve) => this.#onConnect.push(resolve));
    }
    return this.#conn;
  }

  #connect(): void {
    if (this.#closed || this.#displaced) return;
    const options = { identity: this.#state.identity, relayPublicKey: this.#relayKey, device: this.#state.device, keepAliveMs: this.#o.keepAliveMs };
    RelayConnection.connect(this.#endpoint, options).then(
      (conn) => this.#connected(conn),
      (error: Error) => this.#lost(undefined, error),
    );
  }

  #connected(conn: RelayConnection): void {
    if (this.#closed) {
      void conn.close();
      return;
    }
    this.#attempt = 0;
    this.#conn = conn;
    conn.on('deliver', (d) => this.#deliver(conn, d));
    conn.on(
      'prekeysLow',
      (status) => void this.#serial(() => this.#publish(conn, { oneTime: this.#o.oneTime - status.oneTime, oneTimeKem: this.#o.oneTime - status.oneTimeKem })),
    );
    conn.on('displaced', () => {
      this.#displaced = true;
      this.emit('displaced');
    });
    conn.on('close', (error) => this.#lost(conn, error));
    this.#scheduleRotation(conn);
    for (const resolve of this.#onConnect.splice(0)) resolve();
    // `connected` once the prekeys are at the relay too: peers can start sessions from then on.
    this.#serial(() => this.#publish(conn, { oneTime: 0, oneTimeKem: 0 })).then(
      () => this.#conn === conn && this.emit('connected'),
      (error: Error) => this.emit('warning', error),
    );
    void this.#serial(() => {
      for (const entry of this.#state.outbox()) this.#transmit(entry);
    });
    conn.request({ type: 'Fetch' }).catch(() => undefined);
  }

  /**
   * While `conn` lasts, publishes again (which rotates the signed prekey) when
   * it is due: a connection may outlive the signed prekey's age. Timers wait at
   * most a day at a time (Node's timers take at most 2^31 − 1 ms).
   */
  #scheduleRotation(conn: RelayConnection): void {
    clearTimeout(this.#rotation);
    const wait = Math.min(Math.max(this.#state.signedDueAt(this.#o.signedPreKeyMaxAgeMs) - Date.now(), 0), 24 * 3600_000);
    this.#rotation = setTimeout(() => {
      if (this.#conn !== conn || this.#closed) return;
      void this.#serial(() => this.#publish(conn, { oneTime: 0, oneTimeKem: 0 })).then(
        () => this.#conn === conn && !this.#closed && this.#scheduleRotation(conn),
        (error: Error) => this.emit('warning', error),
      );
    }, wait).unref();
  }

  #lost(conn: RelayConnection | undefined, error?: Error): void {
    if (conn !== undefined && conn !== this.#conn) return;
    clearTimeout(this.#rotation);
    this.#conn = undefined;
    if (conn !== undefined) this.emit('disconnected', error);
    if (this.#closed || this.#displaced) return;
    const delay = Math.min(this.#o.maxDelayMs, this.#o.minDelayMs * 2 ** Math.min(this.#attempt++, 20));
    this.#timer = setTimeout(() => this.#connect(), delay * (0.8 + 0.4 * Math.random()));
  }

  /**
   * Uploads every prekey not yet published, after adding `add` one-time prekeys of each kind. The
   * set is committed first, already marking them published: a crash after the upload must not lose
   * a secret the relay hands out (one committed and never uploaded is only never used).
   */
  async #publish(conn: RelayConnection, add: { oneTime: number; oneTimeKem: number }): Promise<void> {
    if (this.#closed) return;
    const preKeys = this.#state.preKeys;
    this.#state.rotateIfDue(this.#o.signedPreKeyMaxAgeMs, Date.now());
    // Keys the relay handed out and no one used stay in the set; once it is full, the oldest of them
    // make room for the new ones (a start naming one that old is refused as a reused key).
    preKeys.makeRoom({ oneTime: Math.max(add.oneTime, 0), oneTimeKem: Math.max(add.oneTimeKem, 0) });
    const x = Math.min(add.oneTime, binding.MAX_ONE_TIME_PRE_KEYS - preKeys.oneTimePreKeyCount);
    if (x > 0) preKeys.addOneTimePreKeys(x);
    const kem = Math.min(add.oneTimeKem, binding.MAX_ONE_TIME_KEM_PRE_KEYS - preKeys.oneTimeKemPreKeyCount);
    if (kem > 0) preKeys.addOneTimeKemPreKeys(kem);
    const uploads = call(() => binding.relayPrekeyUploads(this.#state.preKeys.native, this.#state.identity.native));
    this.#state.stagePreKeys();
    await this.#state.save();
    try {
      for (const upload of uploads) await conn.request({ type: 'UploadPrekeys', ...upload });
    } catch (error) {
      if (errorCode(error) !== 'ERR_RELAY_CLOSED') this.emit('warning', error as Error);
    }
  }

  /** Sends an outbox entry on the current connection (or leaves it for the next one). */
  #transmit(entry: OutboxEntry): void {
    const conn = this.#conn;
    if (conn === undefined || this.#closed) return;
    const send = { type: 'Send' as const, clientMessageId: entry.clientMessageId, recipient: entry.peer, device: entry.device, body: entry.body };
    conn.request(send).then(
      () => this.#settle(entry, undefined),
      (error: RelayError) => {
        const code = String(errorCode(error));
        if (code === 'ERR_RELAY_CLOSED' || this.#closed) return; // sent again on the next connection
        if (TRANSIENT.has(code)) {
          const retry = setTimeout(() => {
            this.#retries.delete(retry);
            this.#transmit(entry);
          }, error.retryAfterMs ?? this.#o.minDelayMs);
          this.#retries.add(retry);
          return;
        }
        this.#settle(entry, error);
      },
    );
  }

  /**
   * Takes an answered entry out of the outbox, then settles its `send`. The
   * removal is staged, not committed on its own: it rides the next commit.
   * Lost in a crash, it only means the entry is sent again after the restart,
   * with its client message id, and the relay answers SENT without a copy.
   */
  #settle(entry: OutboxEntry, error: Error | undefined): void {
    void this.#serial(() => {
      if (this.#closed) return;
      this.#state.unstageOutbox(entry.seq);
      if (error !== undefined && entry.sendId !== undefined) this.#state.unstageSendId(entry.sendId);
      for (const waiting of this.#waiting.get(entry.seq) ?? []) {
        if (error !== undefined) waiting.reject(error);
        else if (--waiting.left === 0) waiting.resolve();
      }
      this.#waiting.delete(entry.seq);
    });
  }

  /** Queues a delivery; the queue is taken in one step, and one commit, as soon as the steps before it are done. */
  #deliver(conn: RelayConnection, d: RelayDelivery): void {
    this.#deliveries.push({ conn, d });
    if (this.#deliveries.length === 1) void this.#serial(() => this.#receive());
  }

  /**
   * Decrypts every queued delivery, commits them with the state they changed
   * in one vault commit, then acks them (see the file's comment for why in
   * this order). A duplicate or undecryptable one is acked after the commit too.
   */
  async #receive(): Promise<void> {
    const batch = this.#deliveries.splice(0);
    if (this.#closed) return;
    const done: { conn: RelayConnection; messageId: number; received?: ReceivedMessage }[] = [];
    for (const { conn, d } of batch) {
      const tag = sessionTag(d.sender, d.senderDevice);
      let opened: { plaintext: Uint8Array; accepted: boolean };
      try {
        opened = this.#open(tag, d);
      } catch (error) {
        if (errorCode(error) !== 'ERR_SESSION_DUPLICATE') this.emit('warning', error as Error);
        done.push({ conn, messageId: d.messageId });
        continue;
      }
      const received = this.#state.stageReceived({ from: d.sender, fromDevice: d.senderDevice, plaintext: opened.plaintext, receivedAt: d.receivedAtMs });
      this.#state.stageSession(tag);
      if (opened.accepted) this.#state.stagePreKeys();
      done.push({ conn, messageId: d.messageId, received });
    }
    await this.#state.save();
    for (const { conn, messageId, received } of done) {
      this.#ack(conn, messageId);
      if (received !== undefined) this.emit('message', received);
    }
  }

  /**
   * The plaintext of a delivery: on the peer device's session, else on the
   * one it replaced (both ends may have started a session at once), else, for
   * a start, on a new session accepted from it. A replay throws
   * `ERR_SESSION_DUPLICATE`.
   */
  #open(tag: string, d: RelayDelivery): { plaintext: Uint8Array; accepted: boolean } {
    let failure: unknown;
    for (const session of [this.#state.sessions.get(tag), this.#state.previous.get(tag)]) {
      if (session === undefined) continue;
      try {
        return { plaintext: session.decrypt(d.body), accepted: false };
      } catch (error) {
        if (errorCode(error) === 'ERR_SESSION_DUPLICATE') throw error;
        failure ??= error;
      }
    }
    if (!isStart(d.body)) throw failure ?? new InvalidArgumentError('a message for a session this messenger does not have');
    const { session, plaintext } = Session.accept(this.#state.identity, this.#state.preKeys, d.body, { expectedPeer: d.sender });
    this.#state.replaceSession(tag, session);
    return { plaintext, accepted: true };
  }

  #ack(conn: RelayConnection, messageId: number): void {
    // A lost ack only means the message comes again, and is dropped as a duplicate.
    conn.request({ type: 'Ack', messageId }).catch(() => undefined);
  }
}
