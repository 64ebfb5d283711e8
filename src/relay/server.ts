/**
 * The relay server (docs/relay.md "Server"): WebSocket and TCP listeners
 * in front of a `RelayStore`, one `ServerConnection` per client. It owns
 * its listeners and connections, never the store: `close()` leaves the
 * store open for its caller to close.
 */
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RateLimiterAbstract, RateLimiterMemory } from 'rate-limiter-flexible';
import { WebSocketServer } from 'ws';
import { InvalidArgumentError, InvalidStateError } from '../errors';
import { LocalPresence, type RelayPresence } from './presence';
import { ServerConnection, type ServerContext } from './server-connection';
import type { RelayStore } from './store';
import { keepAliveArg, tcpLink, wsLink } from './transport';
import { type NativeRelayKey, RELAY_LIMITS } from './wire';

/** A relay key as the binding holds it, or keyward/relay's `RelayKey` (anything with the native key inside). */
export type RelayKeyLike = NativeRelayKey | { readonly native: NativeRelayKey };

/** Options of {@link createRelayServer}. */
export interface RelayServerOptions {
  /** The relay's static key; clients pin its public key. */
  key: RelayKeyLike;
  /** Where devices, mailboxes and prekeys live; the caller opens and closes it (its quota and TTL are the store's). */
  store: RelayStore;
  /** Limits lower than the protocol's (docs/relay.md "Limits"), announced in REGISTERED. */
  limits?: {
    /** The largest message body accepted, ≤ 98 304 (the default). */
    maxBody?: number;
    /** DELIVERs unacked on one connection at most, 1 to 256 (the default). */
    maxInFlight?: number;
  };
  /** The relay's time in ms since the epoch (`Date.now` by default): stored-at times and TTLs. */
  clock?: () => number;
  /** How often a fetching connection looks at its mailbox without a wake-up, in ms (1 000 by default). */
  pollIntervalMs?: number;
  /** How long a connection may take from its first byte to REGISTER, in ms (10 000 by default). */
  handshakeTimeoutMs?: number;
  /**
   * How often an idle WebSocket connection is pinged, in ms (30 000 by
   * default; 0: never). A connection that answers none of two pings in a row
   * is closed. The pings keep idle clients connected through a reverse proxy
   * that closes silent connections (nginx's `proxy_read_timeout` is 60 s):
   * keep this below the proxy's timeout. On TCP it is the kernel's keep-alive.
   */
  keepAliveMs?: number;
  /**
   * How often expired messages and idempotency keys are deleted
   * (`store.purgeExpired`), in ms (10 minutes by default). Expired messages are
   * never delivered in between; the purge frees their room.
   */
  purgeIntervalMs?: number;
  /** The retry-after of UNAVAILABLE answers (the store failed), in ms (1 000 by default). */
  unavailableRetryMs?: number;
  /**
   * Bundle fetches per (requester, target) pair; 6 per 10 minutes in memory by
   * default. Pass a shared limiter (e.g. rate-limiter-flexible's RateLimiterRedis)
   * when several instances serve one store.
   */
  bundleRateLimiter?: RateLimiterAbstract;
  /**
   * Sends per sender identity (`perSender`, 10 000 per 10 s by default) and per
   * (sender, recipient) pair (`perPair`, 2 000 per 10 s by default), in memory:
   * defaults against floods, not against people; a service sets its own.
   * Pass shared limiters (RateLimiterRedis) when several instances serve one
   * store; a retry with the same client message id counts too.
   */
  sendRateLimiters?: { perSender?: RateLimiterAbstract; perPair?: RateLimiterAbstract };
  /** Displacement and wake-ups between connections; one process by default ({@link LocalPresence}). */
  presence?: RelayPresence;
  /**
   * Called with failures that are not a client's fault (the store down): the
   * client got UNAVAILABLE. The error never holds a body or a key; it may name
   * the database. Ignored by default.
   */
  onError?: (error: unknown) => void;
}

/** Where to listen; at least one of the two. Port 0 picks a free port. */
export interface RelayListenOptions {
  websocket?: { port: number; host?: string; path?: string };
  tcp?: { port: number; host?: string };
}

/** Where the server listens. */
export interface RelayAddresses {
  /** `ws://host:port/path`. */
  websocket?: { url: string; host: string; port: number; path: string };
  tcp?: { host: string; port: number };
}

/** A running relay. */
export interface RelayServer {
  /**
   * Starts listening; resolves with the bound addresses. Options that are
   * not `{ port: 0 to 65535, host?: non-empty string, path?: '/…' }` reject
   * with `InvalidArgumentError` before anything listens; the listen itself
   * rejects with Node's error (e.g. EADDRINUSE, or ENOTFOUND for a host name
   * that does not resolve).
   */
  listen(options: RelayListenOptions): Promise<RelayAddresses>;
  /**
   * Serves WebSocket upgrades to `path` on a server you run (other upgrades
   * are left alone). Anything but a `node:http`/`node:https` server, or a
   * path not starting with `/`, throws `InvalidArgumentError`.
   */
  attach(server: HttpServer, path?: string): void;
  /** Closes the listeners and every connection, then waits for the work in progress; the store stays open. */
  close(): Promise<void>;
}

function positive(value: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
  }
  return value as number;
}

function optionsArg(options: RelayServerOptions) {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('createRelayServer takes an options object');
  const key = (options.key as { native?: NativeRelayKey })?.native ?? (options.key as NativeRelayKey);
  if (typeof key?.respond !== 'function') throw new InvalidArgumentError('options.key must be a RelayKey');
  const store = options.store;
  if (typeof store?.enqueue !== 'function' || typeof store.pending !== 'function') throw new InvalidArgumentError('options.store must be a RelayStore');
  const limits = options.limits ?? {};
  if (typeof limits !== 'object' || limits === null) throw new InvalidArgumentError('options.limits must be an object');
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new InvalidArgumentError('options.clock must be a function');
  const onError = options.onError ?? (() => {});
  if (typeof onError !== 'function') throw new InvalidArgumentError('options.onError must be a function');
  return {
    key,
    store,
    clock,
    onError,
    maxBody: limits.maxBody === undefined ? RELAY_LIMITS.maxBody : positive(limits.maxBody, 'limits.maxBody', RELAY_LIMITS.maxBody),
    maxInFlight: limits.maxInFlight === undefined ? RELAY_LIMITS.maxInFlight : positive(limits.maxInFlight, 'limits.maxInFlight', RELAY_LIMITS.maxInFlight),
    pollIntervalMs: options.pollIntervalMs === undefined ? 1000 : positive(options.pollIntervalMs, 'pollIntervalMs'),
    handshakeTimeoutMs: options.handshakeTimeoutMs === undefined ? 10_000 : positive(options.handshakeTimeoutMs, 'handshakeTimeoutMs'),
    keepAliveMs: keepAliveArg(options.keepAliveMs),
    purgeIntervalMs: options.purgeIntervalMs === undefined ? 600_000 : positive(options.purgeIntervalMs, 'purgeIntervalMs'),
    unavailableRetryMs: options.unavailableRetryMs === undefined ? 1000 : positive(options.unavailableRetryMs, 'unavailableRetryMs'),
    presence: options.presence ?? new LocalPresence(),
    bundleLimiter:
      options.bundleRateLimiter ??
      new RateLimiterMemory({
        points: RELAY_LIMITS.bundleFetchesPerWindow,
        duration: RELAY_LIMITS.bundleFetchWindowMs / 1000,
      }),
    sendLimiters: {
      perSender: options.sendRateLimiters?.perSender ?? new RateLimiterMemory({ points: 10_000, duration: 10 }),
      perPair: options.sendRateLimiters?.perPair ?? new RateLimiterMemory({ points: 2000, duration: 10 }),
    },
  };
}

/**
 * One listener's `{ port, host? }`, checked before anything listens, so that
 * a bad port is a typed error (not Node's RangeError, nor a string port taken
 * as a pipe path) and no half of a `listen` is left running.
 */
function endpointArg(value: unknown, name: 'websocket' | 'tcp'): { port: number; host: string } | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(`listen.${name} must be { port, host? }`);
  const { port, host = '127.0.0.1' } = value as { port?: unknown; host?: unknown };
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw new InvalidArgumentError(`listen.${name}.port must be a whole number from 0 to 65535`);
  }
  // A NUL byte is refused here: Node 22 and later throw a TypeError quoting the host for it.
  if (typeof host !== 'string' || host === '' || host.includes('\0')) {
    throw new InvalidArgumentError(`listen.${name}.host must be a non-empty string without NUL bytes`);
  }
  return { port: port as number, host };
}

const remoteOf = (request: IncomingMessage) => `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;

/**
 * A relay server on `options.store` (docs/relay.md). Nothing listens until
 * `listen()` or `attach()`. Bad options throw `InvalidArgumentError`.
 */
export function createRelayServer(options: RelayServerOptions): RelayServer {
  const o = optionsArg(options);
  const connections = new Set<ServerConnection>();
  const work = new Set<Promise<unknown>>();
  const http: HttpServer[] = [];
  const tcp: TcpServer[] = [];
  const attached: { server: HttpServer; listener: (request: IncomingMessage, socket: Duplex, head: Buffer) => void }[] = [];
  let closed = false;

  const ctx: ServerContext = {
    ...o,
    track(promise) {
      work.add(promise);
      promise.finally(() => work.delete(promise)).catch(() => {});
    },
  };
  // The purge runs while something listens; unref'd, so it never keeps a process alive on its own.
  let purgeTimer: NodeJS.Timeout | undefined;
  let purging = false;
  const startPurge = () => {
    purgeTimer ??= setInterval(() => {
      if (purging) return;
      purging = true;
      ctx.track(
        o.store
          .purgeExpired(o.clock())
          .catch(o.onError)
          .finally(() => (purging = false)),
      );
    }, o.purgeIntervalMs).unref();
  };

  // maxPayload: a message over the largest Noise message is refused before it is buffered (docs/relay.md "Transports").
  const wss = new WebSocketServer({ noServer: true, maxPayload: RELAY_LIMITS.maxNoiseMessage, perMessageDeflate: false });

  const open = () => {
    const connection = new ServerConnection(ctx);
    connections.add(connection);
    const handlers = {
      message: (m: Uint8Array) => connection.message(m),
      close: () => {
        connections.delete(connection);
        connection.close();
      },
    };
    return { connection, handlers };
  };

  const upgrade = (path: string) => (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://relay');
    if (url.pathname !== path) return; // another handler's upgrade
    if (closed) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const { connection, handlers } = open();
      connection.attach(wsLink(ws, remoteOf(request), handlers, o.keepAliveMs));
    });
  };

  const checkPath = (path: string) => {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new InvalidArgumentError('the WebSocket path must start with /');
    return path;
  };

  return {
    async listen(listen) {
      if (closed) throw new InvalidStateError('the relay server is closed');
      if (typeof listen !== 'object' || listen === null || (listen.websocket === undefined && listen.tcp === undefined)) {
        throw new InvalidArgumentError('listen takes { websocket?: { port, host?, path? }, tcp?: { port, host? } }, at least one');
      }
      const websocket = endpointArg(listen.websocket, 'websocket');
      const path = websocket === undefined ? '/' : checkPath((listen.websocket as { path?: string }).path ?? '/');
      const tcpAt = endpointArg(listen.tcp, 'tcp');
      const addresses: RelayAddresses = {};
      startPurge();
      if (websocket !== undefined) {
        const { port, host } = websocket;
        const server = createHttpServer((_request, response) => {
          response.writeHead(426, { 'content-type': 'text/plain' }).end('the keyward relay speaks WebSocket here\n');
        });
        server.on('upgrade', upgrade(path));
        http.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        const a = server.address() as AddressInfo;
        const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        addresses.websocket = { url: `ws://${shown}:${a.port}${path}`, host: a.address, port: a.port, path };
      }
      if (tcpAt !== undefined) {
        const { port, host } = tcpAt;
        const server = createTcpServer((socket) => {
          if (closed) {
            socket.destroy();
            return;
          }
          const { connection, handlers } = open();
          connection.attach(tcpLink(socket, handlers, o.keepAliveMs));
        });
        tcp.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        const a = server.address() as AddressInfo;
        addresses.tcp = { host: a.address, port: a.port };
      }
      return addresses;
    },

    attach(server, path = '/') {
      if (closed) throw new InvalidStateError('the relay server is closed');
      if (typeof server?.on !== 'function' || typeof server.off !== 'function') throw new InvalidArgumentError('attach takes a node:http or node:https Server');
      const listener = upgrade(checkPath(path));
      server.on('upgrade', listener);
      attached.push({ server, listener });
      startPurge();
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(purgeTimer);
      for (const { server, listener } of attached) server.off('upgrade', listener);
      const stopped = [...http, ...tcp].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const c of connections) c.terminate();
      connections.clear();
      for (const s of http) s.closeAllConnections();
      await Promise.all(stopped);
      wss.close();
      // Work in progress (a store call) settles before the caller closes the store.
      while (work.size > 0) await Promise.allSettled([...work]);
    },
  };
}
