/**
 * The messaging part of `npm run demo`: `keyward relay` (the CLI, SQLite)
 * carries end-to-end encrypted messages between two `Messenger`s. Bob is
 * offline, alice sends, the relay restarts, bob comes online and reads; the
 * relay's stored rows are ciphertext; a relay that hands out someone else's
 * prekeys for bob is caught, and a replayed handshake gets nowhere.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../scripts/free-port.mjs';
import { decodeBase64Url, IdentityKey, SecretKey, Vault } from '../src/index';
import { binding } from '../src/native';
import { createRelayServer, Messenger, RELAY_STORE_DEFAULTS, type ReceivedMessage, RelayKey, SqliteRelayStore } from '../src/relay/index';

type Say = (who: string, text: string) => void;
type Expect = (ok: boolean, text: string) => void;

/** `keyward relay` from the build, on `port`; resolves with its public key once it listens. */
function startRelay(dir: string, port: number, tcpPort: number): Promise<{ child: ChildProcess; publicKey: Uint8Array }> {
  const cli = join(__dirname, '../dist/cli.js');
  const args = [cli, 'relay', '--port', String(port), '--tcp-port', String(tcpPort), '--db', join(dir, 'relay.db'), '--key-file', join(dir, 'relay.key')];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /relay public key ([A-Za-z0-9_-]+)/.exec(text);
      if (match) resolve({ child, publicKey: decodeBase64Url(match[1] as string) });
    });
    child.once('exit', (code) => reject(new Error(`keyward relay exited (${code})`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const connected = (m: Messenger) => new Promise<void>((resolve) => m.once('connected', () => resolve()));
const text = (m: ReceivedMessage) => Buffer.from(m.plaintext).toString();

async function openMessenger(dir: string, key: SecretKey, url: string, relayPublicKey: Uint8Array) {
  mkdirSync(dir, { recursive: true });
  const vault = await Vault.open(dir, key);
  const messenger = await Messenger.open({ vault, relay: { url }, relayPublicKey });
  await connected(messenger);
  return { messenger, vault };
}

/** Sends message 1 of a captured handshake again, on a new TCP connection, and then what it can: garbage. */
function replayHandshake(port: number, message1: Uint8Array): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const decoder = new binding.RelayTcpDecoder();
    let answered = false;
    socket.on('data', (data) => {
      if (decoder.push(data).length > 0 && !answered) {
        answered = true;
        // Without alice's keys the replayer cannot read message 2 nor write REGISTER: it sends what it has.
        socket.write(binding.relayTcpEncode(new Uint8Array(64).fill(7)));
      }
    });
    socket.on('close', () => resolve(answered ? 'the relay answered message 2, then closed at the first frame it could not decrypt' : 'closed'));
    socket.on('error', () => undefined);
    socket.write(binding.relayTcpEncode(message1));
  });
}

export async function messagingPart(say: Say, expect: Expect, dir: string): Promise<void> {
  const [port, tcpPort] = [await freePort(), await freePort()];
  let relay = await startRelay(dir, port, tcpPort);
  const url = `ws://127.0.0.1:${port}/`;
  say('relay', `keyward relay on ${url} and tcp://127.0.0.1:${tcpPort}; the clients pin its public key`);
  const keys = { alice: SecretKey.generate(), bob: SecretKey.generate() };

  const bob = await openMessenger(join(dir, 'bob'), keys.bob, url, relay.publicKey);
  const bobKey = bob.messenger.identity.publicKey;
  say('bob', 'opens his messenger (identity and prekeys in his vault, prekeys uploaded), then goes offline');
  await bob.messenger.close();
  bob.vault.close();

  const alice = await openMessenger(join(dir, 'alice'), keys.alice, url, relay.publicKey);
  await alice.messenger.send(bobKey, 'the meeting moved to 3pm');
  await alice.messenger.send(bobKey, 'bring the contract');
  say('alice', 'sends bob two messages; the relay answered SENT for each (committed, not yet delivered)');

  await stop(relay.child);
  relay = await startRelay(dir, port, tcpPort);
  say('relay', 'restarts (same database, same key)');

  const store = new SqliteRelayStore(join(dir, 'relay.db'), { limits: RELAY_STORE_DEFAULTS });
  const rows = await store.pending({ identity: Buffer.from(IdentityKey.fingerprint(bobKey), 'hex'), device: 1 }, { limit: 10, now: Date.now() });
  await store.close();
  const plain = rows.some((r) => Buffer.from(r.body).includes(Buffer.from('contract')));
  expect(
    rows.length === 2 && !plain,
    `the relay holds ${rows.length} rows for bob: ${rows.map((r) => `${r.body.length} bytes ${Buffer.from(r.body).subarray(0, 8).toString('hex')}…`).join(', ')} (ciphertext)`,
  );

  const bobVault = await Vault.open(join(dir, 'bob'), keys.bob);
  const bobAgain = await Messenger.open({ vault: bobVault, relay: { url }, relayPublicKey: relay.publicKey });
  const got: ReceivedMessage[] = [];
  await new Promise<void>((resolve) =>
    bobAgain.on('message', (m) => {
      got.push(m);
      if (got.length === 2) resolve();
    }),
  );
  expect(got.map(text).join(' / ') === 'the meeting moved to 3pm / bring the contract', `bob comes online and reads: "${got.map(text).join('", "')}"`);

  // A relay that lies: it hands out mallory's prekeys when asked for carol's.
  const evilStore = new SqliteRelayStore(join(dir, 'evil.db'), { limits: RELAY_STORE_DEFAULTS });
  const evilKey = RelayKey.generate();
  const evil = createRelayServer({ key: evilKey, store: evilStore });
  const evilPort = (await evil.listen({ websocket: { port: 0, host: '127.0.0.1' } })).websocket?.url as string;
  const on = async (name: string) => {
    const vault = await Vault.open(join(dir, `evil-${name}`), SecretKey.generate());
    const m = await Messenger.open({ vault, relay: { url: evilPort }, relayPublicKey: evilKey.publicKey });
    await connected(m);
    return m;
  };
  const [carol, mallory, dave] = [await on('carol'), await on('mallory'), await on('dave')];
  const claim = evilStore.claimBundle.bind(evilStore);
  evilStore.claimBundle = (_identity, device) => claim(Buffer.from(mallory.identity.fingerprint, 'hex'), device);
  say('mallory', "runs a relay that answers carol's bundle with mallory's prekeys");
  const forged = await dave.send(carol.identity.publicKey, 'for carol only').then(
    () => 'sent',
    (e: Error & { code?: string }) => e.code ?? e.message,
  );
  expect(forged === 'ERR_SESSION_BAD_SIGNATURE', `dave's messenger checks the bundle against carol's identity → ${forged}; nothing was sent`);
  for (const m of [carol, mallory, dave]) await m.close();
  await evil.close();
  await evilStore.close();

  // A handshake message 1 of alice's, as mallory would capture it off the wire.
  const { message1 } = binding.RelayClientHandshake.start(alice.messenger.identity.native, relay.publicKey);
  say('mallory', "replays a captured handshake message 1 of alice's to the relay");
  const replay = await replayHandshake(tcpPort, message1);
  expect(replay.startsWith('the relay answered'), `${replay}: no command ran`);

  await bobAgain.close();
  bobVault.close();
  await alice.messenger.close();
  alice.vault.close();
  await stop(relay.child);
}
