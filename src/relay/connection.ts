/**
 * The client side of one relay connection (docs/relay.md "A session, step
 * by step"): the handshake against the pinned relay key, REGISTER, then
 * requests matched to their answers by request id, and the relay's pushes
 * as events. The `Messenger` builds on it; it keeps no state across
 * connections (retries, acks after persistence and duplicates are the
 * caller's: docs/relay.md "What the layers above must do").
 */
import { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import WebSocket from 'ws';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';
import type { IdentityKey } from '../session/identity';
import { bytesArg } from './store';
import { keepAliveArg, type LinkHandlers, type RelayLink, tcpLink, wsLink } from './transport';
import { type BodyOf, type NativeRelayChannel, RELAY_LIMITS, type RelayBody, type RelayPrekeyStatus, type RelayWireCode, relayError } from './wire';

/** PEM certificates, as Node's `tls.connect` takes them in `ca`. */
export type RelayCertificates = string | Uint8Array | ReadonlyArray<string | Uint8Array>;

/**
 * Where the relay is: a WebSocket URL (`ws://` or `wss://`), or a TCP host
 * and port. `ca`, for a `wss://` URL only, replaces Node's trusted
 * certificates for that connection (a relay behind a private CA or a
 * self-signed certificate). TLS is for the proxies on the way: the relay's
 * pinned key authenticates it either way (Noise_IK inside).
 */
export type RelayEndpoint = { url: string; ca?: RelayCertificates } | { tcp: { host: string; port: number } };

const isPem = (v: unknown): v is string | Uint8Array => typeof v === 'string' || v instanceof Uint8Array;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * A copy of `ca` (bytes as Buffers, as `tls` takes them) in which every item
 * holds at least one certificate and every certificate parses: TLS would take
 * any text and then trust nothing, so a typo would be an endless reconnect.
 */
function certificatesArg(ca: unknown): string | Buffer | (string | Buffer)[] {
  const items: unknown[] = Array.isArray(ca) ? ca : [ca];
  if (items.length === 0 || !items.every(isPem)) {
    throw new InvalidArgumentError('ca must be PEM certificates: a string, a Uint8Array or a non-empty array of them');
  }
  const copies = (items as (string | Uint8Array)[]).map((item) => (typeof item === 'string' ? item : Buffer.from(item)));
  for (const item of copies) {
    const blocks = (typeof item === 'string' ? item : item.toString('latin1')).match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) throw new InvalidArgumentError('ca must hold PEM certificates (-----BEGIN CERTIFICATE----- blocks)');
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch {
        throw new InvalidArgumentError('ca holds a certificate that does not parse');
      }
    }
  }
  return Array.isArray(ca) ? copies : copies[0];
}

/** `url` parsed as the WebSocket client parses it, so that what it would refuse is refused here, typed; the URL is not echoed (it may carry a password). */
function wsUrlArg(url: unknown): URL {
  let parsed: URL | undefined;
  try {
    if (typeof url === 'string') parsed = new URL(url);
  } catch {
    // not a URL
  }
  if (parsed === undefined || !(parsed.protocol === 'ws:' || parsed.protocol === 'wss:') || parsed.hostname === '' || parsed.hash !== '') {
    throw new InvalidArgumentError('url must be a ws:// or wss:// URL with a host and no #fragment');
  }
  return parsed;
}

/** Options of {@link RelayConnection.connect}. */
export interface RelayConnectOptions {
  /** This client's identity: the handshake proves it, the relay keeps state by its fingerprint. */
  identity: IdentityKey;
  /** The relay's public key (32 bytes), pinned: configured, never learned from the network. */
  relayPublicKey: Uint8Array;
  /** This device's id, 1 to 2^32 − 1. */
  device: number;
  /** How long the connection, handshake and REGISTER may take, in ms (10 000 by default). */
  timeoutMs?: number;
  /**
   * How often the connection pings the relay while connected, in ms (30 000
   * by default; 0: never): a relay that answers none of two pings in a row
   * is taken as gone and the connection closes. WebSocket pings; on TCP, the
   * kernel's keep-alive.
   */
  keepAliveMs?: number;
}

/** What REGISTERED announced: the limits of this connection. */
export interface RelayLimits {
  /** The largest message body the relay takes. */
  maxBody: number;
  /** DELIVERs the relay leaves unacked at most. */
  maxInFlight: number;
  /** The relay's time when it registered this connection (ms since the epoch). */
  relayTimeMs: number;
}

/** A request the client sends (everything but REGISTER, which `connect` sends). */
export type RelayRequest = BodyOf<'Send'> | BodyOf<'Fetch'> | BodyOf<'Ack'> | BodyOf<'UploadPrekeys'> | BodyOf<'GetBundle'> | BodyOf<'ListDevices'>;

/** The answer to each request type (QUEUE_EMPTY answers FETCH after the backlog's DELIVERs). */
export type RelayAnswer<R extends RelayRequest> = R extends { type: 'Send' }
  ? BodyOf<'Sent'>
  : R extends { type: 'Fetch' }
    ? BodyOf<'QueueEmpty'>
    : R extends { type: 'Ack' }
      ? BodyOf<'Acked'>
      : R extends { type: 'UploadPrekeys' }
        ? BodyOf<'PrekeysStored'>
        : R extends { type: 'GetBundle' }
          ? BodyOf<'Bundle'>
          : R extends { type: 'ListDevices' }
            ? BodyOf<'Devices'>
            : never;

/** A delivered message (DELIVER): ack it by `messageId` once what it changed is persisted. */
export type RelayDelivery = Omit<BodyOf<'Deliver'>, 'type'>;

/** The events of a {@link RelayConnection}. */
export interface RelayConnectionEvents {
  /** A message from the mailbox (after FETCH). */
  deliver: [delivery: RelayDelivery];
  /** The device holds fewer than 20 one-time prekeys of a kind: upload more. */
  prekeysLow: [status: RelayPrekeyStatus];
  /** A newer connection registered this identity and device; this one closes. Do not reconnect on your own. */
  displaced: [];
  /** The connection ended; `error` says why when it was not `close()` (a relay ERROR with request id 0, a broken frame). */
  close: [error?: Error];
}

type Pending = { expect: RelayBody['type']; resolve: (body: RelayBody) => void; reject: (error: Error) => void };

const ANSWERS: Record<RelayRequest['type'], RelayBody['type']> = {
  Send: 'Sent',
  Fetch: 'QueueEmpty',
  Ack: 'Acked',
  UploadPrekeys: 'PrekeysStored',
  GetBundle: 'Bundle',
  ListDevices: 'Devices',
};

const closedError = () => relayError('the relay connection is closed', 'ERR_RELAY_CLOSED');

function optionsArg(options: RelayConnectOptions) {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('connect takes { identity, relayPublicKey, device }');
  const native = (options.identity as { native?: unknown } | undefined)?.native;
  if (native === undefined) throw new InvalidArgumentError('identity must be an IdentityKey');
  const key = bytesArg(options.relayPublicKey, 'relayPublicKey', RELAY_LIMITS.keyLength);
  const { device } = options;
  if (!Number.isInteger(device) || device < 1 || device > 0xffff_ffff) throw new InvalidArgumentError('device must be an integer from 1 to 4294967295');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new InvalidArgumentError('timeoutMs must be a whole number ≥ 1');
  return { identity: options.identity, key, device, timeoutMs, keepAliveMs: keepAliveArg(options.keepAliveMs) };
}

/** A checked copy of `endpoint` (so a later change of the caller's object changes nothing); throws `InvalidArgumentError`. */
export function endpointArg(endpoint: RelayEndpoint): RelayEndpoint {
  if (typeof endpoint !== 'object' || endpoint === null) throw new InvalidArgumentError('the endpoint must be { url } or { tcp: { host, port } }');
  if ('url' in endpoint) {
    const { url, ca } = endpoint;
    const parsed = wsUrlArg(url);
    if (ca === undefined) return { url };
    if (parsed.protocol !== 'wss:') throw new InvalidArgumentError('ca applies to a wss:// URL only');
    return { url, ca: certificatesArg(ca) };
  }
  const tcp = (endpoint as { tcp?: { host: string; port: number } }).tcp;
  if (typeof tcp?.host !== 'string' || !Number.isInteger(tcp.port) || tcp.port < 1 || tcp.port > 65535) {
    throw new InvalidArgumentError('tcp must be { host, port } with a port from 1 to 65535');
  }
  return { tcp: { host: tcp.host, port: tcp.port } };
}

/**
 * One authenticated, registered connection to a relay. Made by
 * {@link RelayConnection.connect}; answers come from {@link request},
 * pushes as events ({@link RelayConnectionEvents}).
 */
export class RelayConnection extends EventEmitter<RelayConnectionEvents> {
  /** The limits REGISTERED announced. */
  readonly limits: RelayLimits;
  private readonly link: RelayLink;
  private readonly channel: NativeRelayChannel;
  private readonly pending = new Map<number, Pending>();
  private nextId = 2; // REGISTER was 1
  private closed = false;
  /**
   * Messages that arrived with REGISTERED (a PREKEYS_LOW right behind it can
   * share its TCP read), held until the caller of `connect` has had the
   * connection for a tick, so listeners attached right after `await connect()`
   * see every push.
   */
  private held: Uint8Array[] | undefined = [];
  private closeHeld = false;

  private constructor(link: RelayLink, channel: NativeRelayChannel, limits: RelayLimits) {
    super();
    this.link = link;
    this.channel = channel;
    this.limits = limits;
  }

  /**
   * Connects, runs the handshake against `relayPublicKey` and registers
   * `device`. Rejects with a `RelayError`: the relay's refusal code
   * (`ERR_RELAY_IDENTITY_MISMATCH`, `ERR_RELAY_UNSUPPORTED_VERSION`,
   * `ERR_RELAY_UNAVAILABLE`…, REGISTER's ERROR with its `retryAfterMs`),
   * `ERR_RELAY_HANDSHAKE` when message 2 does not authenticate or the relay
   * closes without one (another relay key), `ERR_RELAY_CLOSED` when the
   * connection fails or times out; bad options throw `InvalidArgumentError`.
   */
  static async connect(endpoint: RelayEndpoint, options: RelayConnectOptions): Promise<RelayConnection> {
    const where = endpointArg(endpoint);
    const o = optionsArg(options);
    const { handshake, message1 } = call(() => binding.RelayClientHandshake.start(o.identity.native, o.key));

    return new Promise<RelayConnection>((resolve, reject) => {
      let connection: RelayConnection | undefined;
      let channel: NativeRelayChannel | undefined;
      let settled = false;
      let sent = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        channel?.dispose();
        link.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(relayError('the relay did not answer in time', 'ERR_RELAY_CLOSED')), o.timeoutMs);

      const handlers: LinkHandlers = {
        message(message) {
          if (connection !== undefined) {
            connection.#receive(message);
            return;
          }
          if (settled) return;
          try {
            if (channel === undefined) {
              channel = call(() => handshake.finish(message));
              const register = call(() => (channel as NativeRelayChannel).seal({ requestId: 1, body: { type: 'Register', device: o.device } }));
              for (const m of register) link.send(m);
              return;
            }
            const received = call(() => (channel as NativeRelayChannel).open(message));
            if (received === null || received === undefined) return;
            const body = received.frame?.body;
            if (received.frame?.requestId === 1 && body?.type === 'Registered') {
              settled = true;
              clearTimeout(timer);
              connection = new RelayConnection(link, channel, {
                maxBody: body.maxBody,
                maxInFlight: body.maxInFlight,
                relayTimeMs: body.relayTimeMs,
              });
              resolve(connection);
              const made = connection;
              setImmediate(() => made.#release());
              return;
            }
            if (received.frame?.requestId === 1 && body?.type === 'Error') {
              fail(relayError('the relay refused REGISTER', body.code as RelayWireCode, body.retryAfterMs));
              return;
            }
            fail(relayError('the relay sent something other than REGISTERED first', 'ERR_RELAY_MALFORMED'));
          } catch (error) {
            fail(error as Error);
          }
        },
        close(cause) {
          if (connection !== undefined) {
            connection.#linkClosed();
            return;
          }
          let error: Error;
          if (!sent) error = relayError(`cannot connect to the relay${cause ? ` (${cause.message})` : ''}`, 'ERR_RELAY_CLOSED');
          else if (channel === undefined)
            // No message 2: the relay could not read message 1 (another key pinned) or went away.
            error = relayError('the relay closed the connection during the handshake (is the pinned relay key right?)', 'ERR_RELAY_HANDSHAKE');
          else error = relayError('the relay closed the connection before REGISTERED', 'ERR_RELAY_CLOSED');
          fail(error);
        },
      };

      const first = () => {
        sent = true;
        link.send(message1);
      };
      let link: RelayLink;
      try {
        if ('url' in where) {
          const ws = new WebSocket(where.url, {
            maxPayload: RELAY_LIMITS.maxNoiseMessage,
            perMessageDeflate: false,
            ...(where.ca === undefined ? {} : { ca: where.ca as string | Buffer | (string | Buffer)[] }),
          });
          link = wsLink(ws, where.url, handlers, o.keepAliveMs);
          ws.once('open', first);
        } else {
          const socket = tcpConnect({ host: where.tcp.host, port: where.tcp.port });
          link = tcpLink(socket, handlers, o.keepAliveMs);
          socket.once('connect', first);
        }
      } catch {
        // The checks above should leave nothing for the socket to refuse; if it does, no timer may outlive it.
        settled = true;
        clearTimeout(timer);
        reject(relayError('cannot connect to the relay (the socket could not be made)', 'ERR_RELAY_CLOSED'));
      }
    });
  }

  /**
   * Sends a request; resolves with its answer. An ERROR rejects with a
   * `RelayError` carrying the code and `retryAfterMs`; a connection that
   * closes first rejects with `ERR_RELAY_CLOSED` (a SEND may then have been
   * stored: resend it with the same client message id). FETCH resolves with
   * QUEUE_EMPTY once the backlog's DELIVERs were emitted; deliveries go on.
   * A request this end may not send throws `RelayError` `ERR_RELAY_NOT_ALLOWED`,
   * a malformed one `ERR_RELAY_MALFORMED` / `ERR_RELAY_TOO_LARGE`; a body
   * that is not a request, or whose fields have the wrong types, rejects
   * with `InvalidArgumentError`.
   */
  request<R extends RelayRequest>(body: R): Promise<RelayAnswer<R>> {
    if (this.closed) return Promise.reject(closedError());
    const type: unknown = typeof body === 'object' && body !== null ? body.type : undefined;
    // Own keys only: `type: 'constructor'` must not find Object.prototype's.
    if (typeof type !== 'string' || !Object.hasOwn(ANSWERS, type)) return Promise.reject(new InvalidArgumentError('not a relay request'));
    const expect = ANSWERS[type as RelayRequest['type']];
    const requestId = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 2 : this.nextId + 1;
    let messages: Uint8Array[];
    try {
      messages = call(() => this.channel.seal({ requestId, body }));
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<RelayAnswer<R>>((resolve, reject) => {
      this.pending.set(requestId, { expect, resolve: resolve as (body: RelayBody) => void, reject });
      for (const m of messages) this.link.send(m);
    });
  }

  /** Closes the connection; pending requests reject with `ERR_RELAY_CLOSED`. Resolves once closed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.once('close', () => resolve()));
    this.link.end();
    return done;
  }

  /** Processes what arrived while the connection was being handed over. */
  #release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const m of held) this.#receive(m);
    if (this.closeHeld) this.#ended();
  }

  #linkClosed(): void {
    if (this.held !== undefined) this.closeHeld = true;
    else this.#ended();
  }

  /** One Noise message from the relay. */
  #receive(message: Uint8Array): void {
    if (this.closed) return;
    if (this.held !== undefined) {
      this.held.push(message);
      return;
    }
    let received: ReturnType<NativeRelayChannel['open']>;
    try {
      received = call(() => this.channel.open(message));
    } catch (error) {
      this.#fault(error as Error);
      return;
    }
    if (received === null || received === undefined) return;
    if (received.refused || !received.frame) {
      this.#fault(relayError('the relay sent a frame that does not decode', 'ERR_RELAY_MALFORMED'));
      return;
    }
    const { requestId, body } = received.frame;
    if (requestId === 0) {
      this.#onPush(body);
      return;
    }
    const waiting = this.pending.get(requestId);
    if (waiting === undefined) {
      this.#fault(relayError('the relay answered a request that was not sent', 'ERR_RELAY_MALFORMED'));
      return;
    }
    this.pending.delete(requestId);
    if (body.type === 'Error') waiting.reject(relayError('the relay refused the request', body.code as RelayWireCode, body.retryAfterMs));
    else if (body.type === waiting.expect) waiting.resolve(body);
    else {
      waiting.reject(relayError(`the relay answered ${body.type} to a request expecting ${waiting.expect}`, 'ERR_RELAY_MALFORMED'));
      this.#fault(relayError('the relay answered with the wrong frame type', 'ERR_RELAY_MALFORMED'));
    }
  }

  #onPush(body: RelayBody): void {
    switch (body.type) {
      case 'Deliver': {
        const { type: _, ...delivery } = body;
        this.emit('deliver', delivery);
        return;
      }
      case 'PrekeysLow':
        this.emit('prekeysLow', body.status);
        return;
      case 'Displaced':
        this.emit('displaced');
        return;
      case 'Error': {
        this.#fault(relayError('the relay ended the connection', body.code as RelayWireCode, body.retryAfterMs));
        return;
      }
      default: {
        this.#fault(relayError(`the relay pushed ${body.type}`, 'ERR_RELAY_MALFORMED'));
        return;
      }
    }
  }

  private closeError?: Error;

  #fault(error: Error): void {
    this.closeError ??= error;
    this.link.destroy();
  }

  /** The link closed (either side). */
  #ended(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.dispose();
    const error = closedError();
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.emit('close', this.closeError);
  }
}
