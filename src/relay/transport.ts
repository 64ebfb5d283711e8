/**
 * The two transports of docs/relay.md "Transports", behind one small
 * interface so that the server and the client handle Noise messages the
 * same way over both: a WebSocket carries one Noise message per binary
 * message; TCP carries `length (u32) ‖ message`, cut by the binding's
 * `RelayTcpDecoder`, which refuses a bad length before buffering anything.
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { binding, call } from '../native';

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

/** What a link reports. `message` is called in arrival order; `close` once, whatever the cause. */
export interface LinkHandlers {
  message(message: Uint8Array): void;
  close(): void;
}

/**
 * A WebSocket as a link. A text message or an empty binary one ends it
 * (docs/relay.md); one over 65 535 bytes is refused by the socket's
 * `maxPayload` before it is buffered, which whoever made the socket sets.
 */
export function wsLink(ws: WebSocket, remote: string, handlers: LinkHandlers): RelayLink {
  let open = true;
  const closed = () => {
    if (!open) return;
    open = false;
    handlers.close();
  };
  ws.binaryType = 'nodebuffer';
  ws.on('message', (data, isBinary) => {
    if (!open) return;
    const message = data as Buffer;
    if (!isBinary || !Buffer.isBuffer(message) || message.length === 0) {
      ws.terminate();
      return;
    }
    handlers.message(message);
  });
  ws.on('close', closed);
  // 'close' follows every 'error'; the error itself (a peer's bad frame, a reset) is not ours to report.
  ws.on('error', () => {});
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

/** A TCP socket as a link: the binding's decoder cuts the stream, and a bad length prefix ends it at once. */
export function tcpLink(socket: Socket, handlers: LinkHandlers): RelayLink {
  const decoder = new binding.RelayTcpDecoder();
  const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  let open = true;
  socket.setNoDelay(true);
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
  socket.on('close', () => {
    if (!open) return;
    open = false;
    handlers.close();
  });
  socket.on('error', () => {});
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
