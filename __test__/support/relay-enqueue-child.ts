/**
 * The child process of __test__/relay-store-crash.test.ts: opens the SQLite
 * relay store at argv[2], registers the recipient (hex argv[3]) device 1,
 * then enqueues forever, printing each message id on its own line only
 * after `enqueue` resolved, i.e. after the commit. The parent kills it with
 * SIGKILL; every printed id must then be in the file. stdout is a pipe,
 * which Node writes synchronously on Linux and macOS, so a printed line
 * has left this process before the next enqueue starts.
 */
import { randomBytes } from 'node:crypto';
import { SqliteRelayStore } from '../../src/relay/sqlite-store';

const [path, recipientHex] = process.argv.slice(2);
const recipient = new Uint8Array(Buffer.from(recipientHex, 'hex'));
const store = new SqliteRelayStore(path, {
  limits: { quotaMessages: 1_000_000, quotaBytes: 1 << 30, ttlMs: 86_400_000, maxOneTimeStored: 100, maxDevices: 4 },
});
const sender = new Uint8Array(randomBytes(32));

async function main() {
  await store.registerDevice(recipient, 1, 0);
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const { messageId } = await store.enqueue({
      recipient,
      device: 1,
      sender,
      senderDevice: 1,
      clientMessageId: new Uint8Array(randomBytes(16)),
      body: new Uint8Array(randomBytes(64 + (i % 512))),
      now: 1,
    });
    process.stdout.write(`${messageId}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
