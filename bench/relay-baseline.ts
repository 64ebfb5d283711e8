/**
 * The baseline of `npm run bench:relay`: a minimal relay with the same
 * store (the same `RelayStore` methods: registerDevice, enqueue, pending,
 * ack, each committed before it answers), the same presence (wake-ups, local
 * or Redis) and the same WebSocket transport as keyward's relay, but NO
 * Noise handshake or channel and no end-to-end encryption: frames travel in
 * plaintext, in a small binary format of this file (the core exports no
 * plaintext frame decoder). It also omits what keyward's server checks on
 * top: no identity proof (a client names its identity), no rate limits, no
 * in-flight window, no prekeys. Only for measuring; never a relay to run.
 */
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { mailboxKey, type PresenceHolder, type RelayPresence } from '../src/relay/presence';
import type { RelayStore } from '../src/relay/store';
import type { Vault } from '../src/seal/vault';

/** Frame types (one byte, then the fields below, big-endian). */
export const F = {
  /** c→s: identity (32) ‖ device (u32). */
  register: 1,
  /** s→c: empty. */
  registered: 2,
  /** c→s: client message id (16) ‖ recipient (32) ‖ device (u32) ‖ body. */
  send: 3,
  /** s→c: client message id (16) ‖ message id (u32). */
  sent: 4,
  /** s→c: message id (u32) ‖ sender (32) ‖ sender device (u32) ‖ received at (f64) ‖ body. */
  deliver: 5,
  /** c→s: message id (u32). */
  ack: 6,
  /** s→c: client message id (16) ‖ utf-8 code. */
  error: 7,
} as const;

export interface BaselineRelay {
  url: string;
  close(): Promise<void>;
}

/** Starts the baseline relay on loopback over `store` and `presence`. */
export async function startBaselineRelay(store: RelayStore, presence: RelayPresence, pollIntervalMs = 1000): Promise<BaselineRelay> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 128 * 1024 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => {});
    serve(ws, store, presence, pollIntervalMs);
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

function serve(ws: WebSocket, store: RelayStore, presence: RelayPresence, pollIntervalMs: number) {
  let mailbox: { identity: Uint8Array; device: number } | undefined;
  let release: (() => void) | undefined;
  let after = 0;
  let running = false;
  let again = false;
  let poll: NodeJS.Timeout | undefined;
  // Frames of one connection are handled in order, like keyward's server does.
  let queue = Promise.resolve();

  const deliver = async () => {
    if (mailbox === undefined) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        for (;;) {
          const rows = await store.pending(mailbox, { after, limit: 256, now: Date.now() });
          if (rows.length === 0) break;
          for (const row of rows) {
            const head = Buffer.alloc(1 + 4 + 32 + 4 + 8);
            head[0] = F.deliver;
            head.writeUInt32BE(row.messageId, 1);
            head.set(row.sender, 5);
            head.writeUInt32BE(row.senderDevice, 37);
            head.writeDoubleBE(row.receivedAt, 41);
            if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([head, row.body]));
            after = row.messageId;
          }
        }
      } while (again);
    } finally {
      running = false;
    }
  };
  const holder: PresenceHolder = { displaced: () => ws.terminate(), wake: () => void deliver().catch(() => ws.terminate()), prekeysLow: () => {} };

  const handle = async (frame: Buffer) => {
    switch (frame[0]) {
      case F.register: {
        mailbox = { identity: frame.subarray(1, 33), device: frame.readUInt32BE(33) };
        await store.registerDevice(mailbox.identity, mailbox.device, Date.now());
        release = presence.claim(mailboxKey(mailbox.identity, mailbox.device), holder);
        ws.send(Buffer.from([F.registered]));
        poll = setInterval(holder.wake, pollIntervalMs);
        await deliver();
        return;
      }
      case F.send: {
        if (mailbox === undefined) throw new Error('not registered');
        const clientMessageId = frame.subarray(1, 17);
        const recipient = frame.subarray(17, 49);
        const device = frame.readUInt32BE(49);
        // Committed before SENT, as in keyward's server.
        const stored = await store.enqueue({
          recipient,
          device,
          sender: mailbox.identity,
          senderDevice: mailbox.device,
          clientMessageId,
          body: frame.subarray(53),
          now: Date.now(),
        });
        const sent = Buffer.alloc(1 + 16 + 4);
        sent[0] = F.sent;
        sent.set(clientMessageId, 1);
        sent.writeUInt32BE(stored.messageId, 17);
        ws.send(sent);
        if (!stored.duplicate) presence.signal(mailboxKey(recipient, device), 'wake');
        return;
      }
      case F.ack: {
        if (mailbox === undefined) throw new Error('not registered');
        await store.ack(mailbox, [frame.readUInt32BE(1)]);
        return;
      }
      default:
        throw new Error('bad frame');
    }
  };
  ws.on('message', (data: Buffer) => {
    queue = queue.then(() => handle(data)).catch(() => ws.terminate());
  });
  ws.on('close', () => {
    if (poll) clearInterval(poll);
    release?.();
  });
}

/** A baseline client: one connection, one identity (32 random bytes), device 1. */
export class BaselineClient {
  readonly #ws: WebSocket;
  readonly #sent = new Map<string, () => void>();
  /** Called with each delivery; the ACK goes out once what it returns has settled. */
  onMessage: (sender: Uint8Array, body: Uint8Array) => void | Promise<void> = () => {};

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: Buffer) => {
      if (data[0] === F.sent) {
        const key = data.subarray(1, 17).toString('hex');
        this.#sent.get(key)?.();
        this.#sent.delete(key);
      } else if (data[0] === F.deliver) {
        const ack = Buffer.alloc(5);
        ack[0] = F.ack;
        ack.writeUInt32BE(data.readUInt32BE(1), 1);
        const kept = this.onMessage(data.subarray(5, 37), data.subarray(49));
        if (kept === undefined) ws.send(ack);
        else kept.then(() => ws.send(ack));
      }
    });
  }

  static async connect(url: string, identity: Uint8Array): Promise<BaselineClient> {
    const ws = new WebSocket(url);
    ws.binaryType = 'nodebuffer';
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const registered = new Promise<void>((resolve) => ws.once('message', () => resolve()));
    const frame = Buffer.alloc(37);
    frame[0] = F.register;
    frame.set(identity, 1);
    frame.writeUInt32BE(1, 33);
    ws.send(frame);
    await registered;
    return new BaselineClient(ws);
  }

  /** Resolves at SENT (the store committed it). */
  send(recipient: Uint8Array, body: Uint8Array, clientMessageId: Uint8Array): Promise<void> {
    const head = Buffer.alloc(53);
    head[0] = F.send;
    head.set(clientMessageId, 1);
    head.set(recipient, 17);
    head.writeUInt32BE(1, 49);
    return new Promise<void>((resolve) => {
      this.#sent.set(Buffer.from(clientMessageId).toString('hex'), resolve);
      this.#ws.send(Buffer.concat([head, body]));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

/**
 * A baseline client that keeps what any at-least-once messaging client must
 * keep, with the Messenger's commit points but no encryption of its own: the
 * outbox entry is committed before the SEND goes out (and its removal at SENT
 * rides the next commit), each delivery is committed to the history before its
 * ACK, and deliveries that arrive during a commit share the next one. The
 * store is a `Vault` in its own directory, as each Messenger's is, so both
 * sides pay the same durable commits and the comparison isolates Noise and
 * end-to-end encryption (sessions, their state in each commit).
 */
export class DurableBaselineClient {
  readonly #client: BaselineClient;
  readonly #outbox: Vault;
  readonly #history: Vault;
  readonly #vault: Vault;
  /** Deliveries waiting for the next history commit. */
  #arrived: { sender: Uint8Array; body: Uint8Array; kept: () => void }[] = [];
  #committing = false;
  #seq = 0;
  onMessage: (sender: Uint8Array, body: Uint8Array) => void = () => {};

  constructor(client: BaselineClient, vault: Vault) {
    this.#client = client;
    this.#vault = vault;
    this.#outbox = vault.namespace('outbox');
    this.#history = vault.namespace('history');
    client.onMessage = (sender, body) =>
      new Promise<void>((kept) => {
        this.#arrived.push({ sender, body: new Uint8Array(body), kept });
        void this.#commitArrived();
      });
  }

  /** Resolves at SENT, after the outbox entry was committed before sending. */
  async send(recipient: Uint8Array, body: Uint8Array, clientMessageId: Uint8Array): Promise<void> {
    const tag = Buffer.from(clientMessageId).toString('hex');
    this.#outbox.set(tag, new Uint8Array(Buffer.concat([recipient, body])));
    await this.#vault.save();
    await this.#client.send(recipient, body, clientMessageId);
    this.#outbox.delete(tag);
  }

  /** Commits what arrived, then shows and acks it; what arrives meanwhile waits for the next commit. */
  async #commitArrived(): Promise<void> {
    if (this.#committing) return;
    this.#committing = true;
    try {
      while (this.#arrived.length > 0) {
        const batch = this.#arrived.splice(0);
        for (const m of batch) this.#history.set(String(++this.#seq), new Uint8Array(Buffer.concat([m.sender, m.body])));
        await this.#vault.save();
        for (const m of batch) {
          this.onMessage(m.sender, m.body);
          m.kept();
        }
      }
    } finally {
      this.#committing = false;
    }
  }

  close(): void {
    this.#client.close();
  }
}
