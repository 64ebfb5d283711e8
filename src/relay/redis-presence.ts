/**
 * `RedisPresence`: the relay's presence (presence.ts) shared by several
 * relay instances through Redis, so a connection on one instance is
 * displaced by a newer one on another, and a send stored by one instance
 * wakes the recipient's connection on another at once.
 *
 * Redis holds nothing that cannot be lost: a key per held mailbox (whose
 * connection holds it, compared when someone else claims it) and pub/sub
 * messages. With Redis down, every instance still displaces within itself
 * and delivers by polling its store; only cross-instance displacement and
 * the immediacy of wake-ups wait for Redis to come back.
 *
 * Displacement: a claim SETs `presence:<mailbox>` to its own token, then
 * publishes "claim". Every other instance holding that mailbox reads the
 * key: if it is not its own token any more, a newer claim won and its
 * connection is displaced. Two claims at once end with exactly one holder
 * (the later SET), whichever message arrives first.
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, RelayError } from '../errors';
import { claimArgs, type PresenceHolder, type RelayPresence, signalArgs } from './presence';

/** What the presence uses of an ioredis client. */
export interface PresenceRedis {
  set(key: string, value: string, ex: 'EX', seconds: number): Promise<unknown>;
  get(key: string): Promise<string | null>;
  eval(script: string, keys: number, ...args: string[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  duplicate(): PresenceRedis;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** Options of {@link RedisPresence.open}. */
export interface RedisPresenceOptions {
  /** A Redis URL, or an ioredis client (left open by `close()`; a second connection is made from it for pub/sub). */
  redis: string | PresenceRedis;
  /** Key and channel prefix, so several relays can share one Redis (`keyward:relay` by default). */
  prefix?: string;
  /** Failures of Redis (the relay goes on without it); ignored by default. */
  onError?: (error: unknown) => void;
}

/** Deletes the key only while it still holds this token (a release never removes a newer claim). */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
/** How long a holder's key lives; it is only read when someone claims the mailbox again. */
const KEY_TTL_S = 7 * 24 * 3600;

type Message = { type: 'claim' | 'wake' | 'prekeys-low'; key: string; from: string };

/** The presence of several relay instances, through Redis pub/sub. */
export class RedisPresence implements RelayPresence {
  readonly #id = randomBytes(8).toString('hex');
  readonly #holders = new Map<string, { holder: PresenceHolder; token: string }>();
  readonly #commands: PresenceRedis;
  readonly #subscriber: PresenceRedis;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #onError: (error: unknown) => void;

  private constructor(commands: PresenceRedis, subscriber: PresenceRedis, owned: boolean, options: RedisPresenceOptions) {
    this.#commands = commands;
    this.#subscriber = subscriber;
    this.#owned = owned;
    this.#prefix = options.prefix ?? 'keyward:relay';
    this.#channel = `${this.#prefix}:presence`;
    this.#onError = options.onError ?? (() => undefined);
  }

  /**
   * Connects and subscribes. Bad options (a `redis` that is neither a
   * non-empty Redis URL nor an ioredis client, an empty `prefix`) throw
   * `InvalidArgumentError`; Redis that cannot be reached now rejects with
   * `RelayError` `ERR_RELAY_UNAVAILABLE`, whose `cause` is the client's error
   * (kept out of the message: a URL may carry a password).
   */
  static async open(options: RedisPresenceOptions): Promise<RedisPresence> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('RedisPresence.open takes { redis }');
    const { redis } = options;
    if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix.length === 0)) {
      throw new InvalidArgumentError('options.prefix must be a non-empty string');
    }
    const onError = options.onError ?? (() => undefined);
    if (typeof onError !== 'function') throw new InvalidArgumentError('options.onError must be a function');
    let commands: PresenceRedis;
    if (typeof redis === 'string') {
      // An empty string would be ioredis' default, localhost:6379: never what a configuration meant.
      if (redis === '') throw new InvalidArgumentError('options.redis must be a Redis URL or an ioredis client');
      const IORedis = require('ioredis') as new (url: string, options?: object) => PresenceRedis;
      try {
        commands = new IORedis(redis, { maxRetriesPerRequest: 1 });
      } catch {
        // ioredis' own error quotes the URL, which may hold a password.
        throw new InvalidArgumentError('options.redis is not a valid Redis URL');
      }
    } else if (typeof (redis as PresenceRedis | undefined)?.duplicate === 'function') {
      commands = redis;
    } else {
      throw new InvalidArgumentError('options.redis must be a Redis URL or an ioredis client');
    }
    const subscriber = commands.duplicate();
    const presence = new RedisPresence(commands, subscriber, typeof redis === 'string', options);
    for (const client of [commands, subscriber]) client.on('error', (error) => presence.#onError(error));
    subscriber.on('message', (_channel, message) => presence.#receive(message));
    try {
      await subscriber.subscribe(presence.#channel);
    } catch (error) {
      subscriber.disconnect();
      if (presence.#owned) commands.disconnect();
      const unavailable = new RelayError('cannot reach Redis for the relay presence', 'ERR_RELAY_UNAVAILABLE');
      Object.defineProperty(unavailable, 'cause', { value: error, enumerable: false, configurable: true, writable: true });
      throw unavailable;
    }
    return presence;
  }

  /** See {@link RelayPresence.claim}; a key that is not a non-empty string, or a holder without its three methods, throws `InvalidArgumentError`. */
  claim(key: string, holder: PresenceHolder): () => void {
    claimArgs(key, holder);
    const token = `${this.#id}:${randomBytes(8).toString('hex')}`;
    const previous = this.#holders.get(key);
    this.#holders.set(key, { holder, token });
    if (previous !== undefined && previous.holder !== holder) previous.holder.displaced();
    this.#commands
      .set(this.#redisKey(key), token, 'EX', KEY_TTL_S)
      .then(() => this.#publish('claim', key))
      .catch(this.#onError);
    return () => {
      if (this.#holders.get(key)?.token !== token) return;
      this.#holders.delete(key);
      this.#commands.eval(RELEASE, 1, this.#redisKey(key), token).catch(this.#onError);
    };
  }

  /** See {@link RelayPresence.signal}; a bad key or signal throws `InvalidArgumentError`. */
  signal(key: string, signal: 'wake' | 'prekeys-low'): void {
    signalArgs(key, signal);
    this.#deliver(key, signal);
    this.#publish(signal, key).catch(this.#onError);
  }

  /** Unsubscribes and disconnects (a client passed in stays open). */
  async close(): Promise<void> {
    this.#holders.clear();
    await this.#subscriber.quit().catch(() => this.#subscriber.disconnect());
    if (this.#owned) await this.#commands.quit().catch(() => this.#commands.disconnect());
  }

  #redisKey(key: string): string {
    return `${this.#prefix}:holder:${key}`;
  }

  #publish(type: Message['type'], key: string): Promise<unknown> {
    return this.#commands.publish(this.#channel, JSON.stringify({ type, key, from: this.#id } satisfies Message));
  }

  #deliver(key: string, signal: 'wake' | 'prekeys-low'): void {
    const held = this.#holders.get(key);
    if (held === undefined) return;
    if (signal === 'wake') held.holder.wake();
    else held.holder.prekeysLow();
  }

  #receive(text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return; // not ours
    }
    if (message.from === this.#id || typeof message.key !== 'string') return;
    if (message.type === 'wake' || message.type === 'prekeys-low') {
      this.#deliver(message.key, message.type);
      return;
    }
    if (message.type !== 'claim') return;
    const held = this.#holders.get(message.key);
    if (held === undefined) return;
    this.#commands.get(this.#redisKey(message.key)).then((current) => {
      // Only a newer claim displaces: the key holds its token, not ours.
      if (current !== held.token && this.#holders.get(message.key) === held) {
        this.#holders.delete(message.key);
        held.holder.displaced();
      }
    }, this.#onError);
  }
}
