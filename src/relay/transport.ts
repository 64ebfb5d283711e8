/**
 * The two transports of docs/relay.md "Transports", behind one small
 * interface so that the server and the client handle Noise messages the
 * same way over both: a WebSocket carries one Noise message per binary
 * message; TCP carries `length (u32) ‖ message`, cut by the binding's
 * `RelayTcpDecoder`, which refuses a bad length before buffering anything.
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';

/**
 * The keep-alive interval of both ends by default: half of nginx's default
 * `proxy_read_timeout` (60 s), below the idle timeouts of common load balancers.
 */
export const DEFAULT_KEEP_ALIVE_MS = 30_000;

/** The longest interval a timer takes (Node turns a longer one into 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A `keepAliveMs` option: 0 (none) or a whole number of ms; `fallback` when not given. */
export function keepAliveArg(value: unknown, fallback = DEFAULT_KEEP_ALIVE_MS): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > MAX_TIMER_MS) {
    throw new InvalidArgumentError(`keepAliveMs must be a whole number from 0 (no keep-alive) to ${MAX_TIMER_MS}`);
  }
  return value as number;
}

/** One Noise-message link, either transport. */
export interface RelayLink {
  /** Sends one Noise message (in order with every other). Does nothing once the link is closing. */
  send(message: Uint8Array): void;
  /** Closes once what was sent is flushed. */
  end(): void;
  /** Closes now. */
  destroy(): void;
  /** The peer's address, for logs (never a key or a body). */
  readonly remote: string;
}

/**
 * What a link reports. `message` is called in arrival order; `close` once,
 * whatever the cause, with the socket's last error if there was one (its
 * message names an address or an HTTP status, never a key or a body).
 */
export interface LinkHandlers {
  message(message: Uint8Array): void;
  close(cause?: Error): void;
}

/**
 * A WebSocket as a link. A text message or an empty binary one ends it
 * (docs/relay.md); one over 65 535 bytes is refused by the socket's
 * `maxPayload` before it is buffered, which whoever made the socket sets.
 *
 * Every `keepAliveMs` (0: never) the link sends a WebSocket ping, and ends
 * when nothing (no pong, no message) came back for two pings in a row. The pings
 * keep an idle connection alive through proxies that cut silent ones (nginx
 * after 60 s by default, load balancers alike), and find a peer that is gone
 * without a close.
 */
export function wsLink(ws: WebSocket, remote: string, handlers: LinkHandlers, keepAliveMs = 0): RelayLink {
  let open = true;
  // Pings sent since the peer was last heard from; two unanswered end the link, so one late pong
  // (a busy event loop on either side) does not.
  let unanswered = 0;
  const beat =
    keepAliveMs > 0
      ? setInterval(() => {
          if (ws.readyState !== ws.OPEN) return;
          if (unanswered >= 2) {
            ws.terminate();
            return;
          }
          unanswered++;
          ws.ping();
        }, keepAliveMs).unref()
      : undefined;
  let cause: Error | undefined;
  const closed = () => {
    clearInterval(beat);
    if (!open) return;
    open = false;
    handlers.close(cause);
  };
  ws.binaryType = 'nodebuffer';
  ws.on('pong', () => (unanswered = 0));
  ws.on('message', (data, isBinary) => {
    unanswered = 0;
    if (!open) return;
    const message = data as Buffer;
    if (!isBinary || !Buffer.isBuffer(message) || message.length === 0) {
      ws.terminate();
      return;
    }
    handlers.message(message);
  });
  ws.on('close', closed);
  // 'close' follows every 'error', which it passes on (a refused connection, an HTTP status instead of an upgrade).
  ws.on('error', (error) => (cause = error));
  return {
    remote,
    send(message) {
      if (open && ws.readyState === ws.OPEN) ws.send(message, { binary: true });
    },
    end() {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
    },
    destroy() {
      ws.terminate();
    },
  };
}

/**
 * A TCP socket as a link: the binding's decoder cuts the stream, and a bad
 * length prefix ends it at once. `keepAliveMs` (0: never) turns on the
 * kernel's TCP keep-alive after that much silence, which finds a peer that is
 * gone; it sends no data, so it does not keep a proxy's idle timer from
 * running out (the protocol has no ping frame: docs/relay.md "Transports").
 */
export function tcpLink(socket: Socket, handlers: LinkHandlers, keepAliveMs = 0): RelayLink {
  const decoder = new binding.RelayTcpDecoder();
  const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  let open = true;
  socket.setNoDelay(true);
  if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
  socket.on('data', (chunk: Buffer) => {
    if (!open) return;
    let messages: Uint8Array[];
    try {
      messages = call(() => decoder.push(chunk));
    } catch {
      socket.destroy();
      return;
    }
    for (const message of messages) {
      if (!open || socket.destroyed) return;
      handlers.message(message);
    }
  });
  let cause: Error | undefined;
  socket.on('close', () => {
    if (!open) return;
    open = false;
    handlers.close(cause);
  });
  socket.on('error', (error) => (cause = error));
  return {
    remote,
    send(message) {
      if (open && !socket.destroyed && socket.writable) socket.write(call(() => binding.relayTcpEncode(message)));
    },
    end() {
      if (!socket.destroyed) socket.end();
    },
    destroy() {
      socket.destroy();
    },
  };
}
