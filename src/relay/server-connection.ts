/**
 * One client connection on the relay, either transport: the handshake, the
 * REGISTER gate, the commands, and the delivery stream (docs/relay.md "What
 * the layers above must do"). Nothing here logs or keeps a message body or
 * a key beyond the call that uses it.
 */
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { binding, call } from '../native';
import { mailboxKey, type PresenceHolder, type RelayPresence } from './presence';
import type { Mailbox, RelayStore } from './store';
import type { LinkHandlers, RelayLink } from './transport';
import {
  type BodyOf,
  fingerprintOf,
  type NativeRelayChannel,
  type NativeRelayKey,
  RELAY_LIMITS,
  type RelayBody,
  type RelayFrame,
  type RelayPrekeyStatus,
  type RelayWireCode,
  relayError,
  wireCodeOf,
} from './wire';

/** What every connection of one server shares. @internal */
export interface ServerContext {
  key: NativeRelayKey;
  store: RelayStore;
  presence: RelayPresence;
  bundleLimiter: RateLimiterAbstract;
  /** Sends per sender identity, and per (sender, recipient) pair. */
  sendLimiters: { perSender: RateLimiterAbstract; perPair: RateLimiterAbstract };
  clock: () => number;
  maxBody: number;
  maxInFlight: number;
  pollIntervalMs: number;
  handshakeTimeoutMs: number;
  unavailableRetryMs: number;
  /** Failures that are not a refusal (a store down): reported, then answered UNAVAILABLE. */
  onError: (error: unknown) => void;
  /** Keeps a promise until it settles, so that `close()` can wait for the work in progress. */
  track(work: Promise<unknown>): void;
}

type State = 'handshake' | 'unregistered' | 'registered' | 'closed';

/**
 * Takes one point from `limiter` under `key`; an exhausted key is
 * RATE_LIMITED with the time until a point frees. A limiter that fails
 * (its Redis down, with no insurance limiter) throws its own error, which
 * the connection answers UNAVAILABLE.
 */
async function limit(limiter: RateLimiterAbstract, key: string, message: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    if (error instanceof RateLimiterRes) throw relayError(message, 'ERR_RELAY_RATE_LIMITED', Math.max(1, Math.ceil(error.msBeforeNext)));
    throw error;
  }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const isLow = (s: { oneTime: number; oneTimeKem: number }) => s.oneTime < RELAY_LIMITS.prekeysLowThreshold || s.oneTimeKem < RELAY_LIMITS.prekeysLowThreshold;

/** @internal The relay's side of one connection. */
export class ServerConnection implements LinkHandlers, PresenceHolder {
  private link!: RelayLink;
  private state: State = 'handshake';
  private channel?: NativeRelayChannel;
  /** As the handshake claimed it: the sender of what this connection sends. */
  private identity: Uint8Array = new Uint8Array(0);
  /** The key the relay keeps this identity's state by. */
  private fingerprint: Uint8Array = new Uint8Array(0);
  private device = 0;
  private mailbox!: Mailbox;
  /** REGISTER's store write; resolves false when it failed (the connection is closing). */
  private registered: Promise<boolean> = Promise.resolve(false);
  private release?: () => void;
  private readonly handshakeTimer: NodeJS.Timeout;

  // The delivery stream (after FETCH).
  private fetching = false;
  /** The highest message id delivered on this connection: never deliver one twice here. */
  private cursor = 0;
  private readonly inFlight = new Set<number>();
  /** FETCH request ids waiting for QUEUE_EMPTY. */
  private fetchWaiters: number[] = [];
  private pumping = false;
  private pumpAgain = false;
  private pollTimer?: NodeJS.Timeout;

  constructor(private readonly ctx: ServerContext) {
    // Until REGISTER decrypts the connection is unauthenticated (message 1 is replayable): it may not linger.
    this.handshakeTimer = setTimeout(() => {
      if (this.state === 'handshake' || this.state === 'unregistered') this.shutdown(false);
    }, ctx.handshakeTimeoutMs);
  }

  /** Binds the link (made with this object as its handlers). */
  attach(link: RelayLink): void {
    this.link = link;
  }

  // ---- LinkHandlers ----

  message(message: Uint8Array): void {
    if (this.state === 'closed') return;
    if (this.state === 'handshake') {
      this.handshake(message);
      return;
    }
    let received: ReturnType<NativeRelayChannel['open']>;
    try {
      received = call(() => (this.channel as NativeRelayChannel).open(message));
    } catch {
      this.shutdown(false);
      return;
    }
    if (received === null || received === undefined) return;
    if (received.refused) {
      const { requestId, code } = received.refused;
      this.sendError(requestId, code as RelayWireCode, 0);
      // An ERROR with request id 0 concerns the connection (docs/relay.md "Request ids").
      if (requestId === 0) this.shutdown(true);
      return;
    }
    if (received.frame) this.dispatch(received.frame);
  }

  close(): void {
    this.shutdown(true);
  }

  // ---- PresenceHolder ----

  displaced(): void {
    if (this.state !== 'registered') return;
    this.push({ type: 'Displaced' });
    this.shutdown(true);
  }

  wake(): void {
    if (this.fetching) this.pump();
  }

  prekeysLow(): void {
    if (this.state !== 'registered') return;
    this.ctx.track(
      (async () => {
        try {
          const status = await this.ctx.store.prekeyCounts(this.fingerprint, this.device);
          this.push({ type: 'PrekeysLow', status });
        } catch (error) {
          if (wireCodeOf(error) === undefined) this.ctx.onError(error);
        }
      })(),
    );
  }

  /** Ends the connection now (the server is closing). */
  terminate(): void {
    this.shutdown(false);
  }

  // ---- the handshake ----

  private handshake(message1: Uint8Array): void {
    let answer: ReturnType<NativeRelayKey['respond']>;
    try {
      answer = call(() => this.ctx.key.respond(message1));
    } catch {
      this.shutdown(false);
      return;
    }
    this.link.send(answer.message2);
    if (!answer.accepted) {
      this.shutdown(true);
      return;
    }
    this.channel = answer.accepted.channel;
    this.identity = answer.accepted.identity;
    this.fingerprint = answer.accepted.fingerprint;
    this.state = 'unregistered';
  }

  // ---- frames ----

  private send(frame: RelayFrame): void {
    if (this.state === 'closed' || this.channel === undefined) return;
    let messages: Uint8Array[];
    try {
      messages = call(() => (this.channel as NativeRelayChannel).seal(frame));
    } catch (error) {
      this.ctx.onError(error);
      this.shutdown(false);
      return;
    }
    for (const m of messages) this.link.send(m);
  }

  private push(body: RelayBody): void {
    this.send({ requestId: 0, body });
  }

  private sendError(requestId: number, code: RelayWireCode, retryAfterMs: number): void {
    this.send({ requestId, body: { type: 'Error', code, retryAfterMs } as RelayBody });
  }

  /** Answers a failed request: a refusal with its code, anything else (the store down) with UNAVAILABLE. */
  private fail(requestId: number, error: unknown): void {
    let code = wireCodeOf(error);
    if (code === undefined && (error as { code?: unknown })?.code === 'ERR_INVALID_ARG_VALUE') code = 'ERR_RELAY_MALFORMED';
    if (code === undefined) {
      this.ctx.onError(error);
      code = 'ERR_RELAY_UNAVAILABLE';
    }
    const given = (error as { retryAfterMs?: unknown })?.retryAfterMs;
    let retry = 0;
    if (code === 'ERR_RELAY_RATE_LIMITED' || code === 'ERR_RELAY_UNAVAILABLE') {
      retry = typeof given === 'number' && given > 0 ? Math.ceil(given) : this.ctx.unavailableRetryMs;
    }
    this.sendError(requestId, code, retry);
  }

  private dispatch(frame: RelayFrame): void {
    const { requestId, body } = frame;
    if (body.type === 'Register') {
      this.register(requestId, body.device);
      return;
    }
    const work = (async () => {
      if (!(await this.registered) || this.state === 'closed') return;
      try {
        const answer = await this.answer(requestId, body);
        if (answer !== undefined) this.send({ requestId, body: answer });
      } catch (error) {
        this.fail(requestId, error);
      }
    })();
    this.ctx.track(work);
  }

  private async answer(requestId: number, body: RelayBody): Promise<RelayBody | undefined> {
    switch (body.type) {
      case 'Send':
        return this.onSend(body);
      case 'Fetch':
        this.onFetch(requestId);
        return undefined;
      case 'Ack':
        await this.ctx.store.ack(this.mailbox, [body.messageId]);
        this.inFlight.delete(body.messageId);
        this.pump();
        return { type: 'Acked' };
      case 'UploadPrekeys': {
        call(() => binding.relayVerifyUpload(this.identity, body));
        const status = await this.ctx.store.uploadPrekeys(this.fingerprint, this.device, {
          signed: body.signed ?? undefined,
          oneTime: body.oneTime,
          oneTimeKem: body.oneTimeKem,
        });
        return { type: 'PrekeysStored', status };
      }
      case 'GetBundle':
        return this.onGetBundle(body);
      case 'ListDevices': {
        const target = fingerprintOf(body.identity);
        const devices = target === undefined ? [] : await this.ctx.store.listDevices(target);
        if (devices.length === 0) throw relayError('the identity has no registered device', 'ERR_RELAY_UNKNOWN_RECIPIENT');
        return { type: 'Devices', devices };
      }
      default:
        // The channel refuses relay-to-client types already; this is the same answer for anything it lets through.
        throw relayError('not a request', 'ERR_RELAY_NOT_ALLOWED');
    }
  }

  private register(requestId: number, device: number): void {
    clearTimeout(this.handshakeTimer);
    this.state = 'registered';
    this.device = device;
    this.mailbox = { identity: this.fingerprint, device };
    // Only now, with the client's first transport message decrypted, may anything observable happen.
    this.release = this.ctx.presence.claim(mailboxKey(this.fingerprint, device), this);
    this.registered = (async () => {
      const now = this.ctx.clock();
      try {
        await this.ctx.store.registerDevice(this.fingerprint, device, now);
      } catch (error) {
        this.fail(requestId, error);
        this.shutdown(true);
        return false;
      }
      this.send({
        requestId,
        body: { type: 'Registered', maxBody: this.ctx.maxBody, maxInFlight: this.ctx.maxInFlight, relayTimeMs: now },
      });
      try {
        const status = await this.ctx.store.prekeyCounts(this.fingerprint, device);
        if (status.signedId !== 0 && isLow(status)) this.push({ type: 'PrekeysLow', status });
      } catch (error) {
        if (wireCodeOf(error) === undefined) this.ctx.onError(error);
      }
      return true;
    })();
    this.ctx.track(this.registered);
  }

  private async onSend(body: BodyOf<'Send'>): Promise<RelayBody> {
    if (body.body.length > this.ctx.maxBody) throw relayError('the message body is over the relay’s limit', 'ERR_RELAY_TOO_LARGE');
    const recipient = fingerprintOf(body.recipient);
    if (recipient === undefined) throw relayError('no such identity', 'ERR_RELAY_UNKNOWN_RECIPIENT');
    const sender = hex(this.fingerprint);
    await limit(this.ctx.sendLimiters.perSender, sender, 'too many sends from this identity');
    await limit(this.ctx.sendLimiters.perPair, `${sender}:${hex(recipient)}`, 'too many sends to this recipient');
    const message = {
      recipient,
      sender: this.identity,
      senderDevice: this.device,
      clientMessageId: body.clientMessageId,
      body: body.body,
      now: this.ctx.clock(),
    };
    if (body.device === 0) {
      const stored = await this.ctx.store.enqueueAll(message);
      for (const copy of stored.copies) this.ctx.presence.signal(mailboxKey(recipient, copy.device), 'wake');
      return { type: 'Sent', storedAtMs: stored.storedAt, copies: stored.copies.length };
    }
    const stored = await this.ctx.store.enqueue({ ...message, device: body.device });
    this.ctx.presence.signal(mailboxKey(recipient, body.device), 'wake');
    return { type: 'Sent', storedAtMs: stored.storedAt, copies: 1 };
  }

  private async onGetBundle(body: BodyOf<'GetBundle'>): Promise<RelayBody> {
    const target = fingerprintOf(body.identity);
    // Per (requester, target) pair, so that one requester cannot drain a device's one-time keys.
    const pair = `${hex(this.fingerprint)}:${target === undefined ? 'invalid' : hex(target)}`;
    await limit(this.ctx.bundleLimiter, pair, 'too many bundle fetches for this identity');
    if (target === undefined) throw relayError('no such identity', 'ERR_RELAY_UNKNOWN_RECIPIENT');
    const claimed = await this.ctx.store.claimBundle(target, body.device);
    const bundle = call(() => binding.relayComposeBundle(body.identity, claimed.signed, claimed.oneTime));
    if (isLow(claimed.left)) this.ctx.presence.signal(mailboxKey(target, body.device), 'prekeys-low');
    return { type: 'Bundle', device: body.device, bundle, oneTimeKem: claimed.oneTimeKem };
  }

  // ---- delivery ----

  private onFetch(requestId: number): void {
    this.fetchWaiters.push(requestId);
    if (!this.fetching) {
      this.fetching = true;
      // The fallback that a lost wake-up cannot defeat (another instance's send, a missed signal).
      this.pollTimer = setInterval(() => this.pump(), this.ctx.pollIntervalMs);
    }
    this.pump();
  }

  /** Runs the delivery loop, once at a time; a call during a run makes it go round again. */
  private pump(): void {
    if (!this.fetching || this.state !== 'registered') return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    const run = (async () => {
      try {
        do {
          this.pumpAgain = false;
          await this.drain();
        } while (this.pumpAgain && this.state === 'registered');
      } finally {
        this.pumping = false;
      }
    })();
    this.ctx.track(run);
  }

  /** Delivers what is pending, up to the in-flight cap, and answers FETCHes once nothing more is. */
  private async drain(): Promise<void> {
    const { store, maxInFlight, clock } = this.ctx;
    while (this.state === 'registered') {
      const room = maxInFlight - this.inFlight.size;
      let batch: Awaited<ReturnType<RelayStore['pending']>>;
      try {
        // With no room, only look whether anything is left, to tell a waiting FETCH.
        batch = await store.pending(this.mailbox, { after: this.cursor, limit: Math.max(room, 1), now: clock() });
      } catch (error) {
        const waiters = this.fetchWaiters;
        this.fetchWaiters = [];
        if (waiters.length === 0 && wireCodeOf(error) === undefined) this.ctx.onError(error);
        for (const id of waiters) this.fail(id, error);
        return;
      }
      if (this.state !== 'registered') return;
      if (room <= 0) {
        if (batch.length === 0) this.queueEmpty();
        return;
      }
      for (const m of batch) {
        if (m.messageId <= this.cursor) continue;
        this.cursor = m.messageId;
        this.inFlight.add(m.messageId);
        this.push({
          type: 'Deliver',
          messageId: m.messageId,
          sender: m.sender,
          senderDevice: m.senderDevice,
          receivedAtMs: m.receivedAt,
          body: m.body,
        });
      }
      if (batch.length < room) {
        this.queueEmpty();
        return;
      }
    }
  }

  private queueEmpty(): void {
    const waiters = this.fetchWaiters;
    this.fetchWaiters = [];
    for (const requestId of waiters) this.send({ requestId, body: { type: 'QueueEmpty' } });
  }

  // ---- the end ----

  /** Closes the connection once: `graceful` flushes what was sent first (message 2 of a refusal, DISPLACED). */
  private shutdown(graceful: boolean): void {
    if (this.state === 'closed') {
      if (!graceful) this.link?.destroy();
      return;
    }
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.release?.();
    this.channel?.dispose();
    if (graceful) this.link?.end();
    else this.link?.destroy();
  }
}

export type { RelayPrekeyStatus };
