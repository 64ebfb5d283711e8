/**
 * A messaging application in its own process, for the kill tests
 * (__test__/relay-messenger-kill.test.ts): it opens its Messenger from a
 * vault, sends `count` numbered messages to `peer` one after another (each
 * with the id `m<i>`, so a restarted process sends again whatever it did not
 * see resolve, and the Messenger takes each once), and exits 0 once every
 * send resolved and its history holds `count` messages from `peer`. It may be
 * SIGKILLed at any instant.
 *
 * argv: vaultDir vaultKeyHex identitySeedHex relayUrl relayPublicKeyHex peerPublicKeyHex count
 */
import { IdentityKey, SecretKey, Vault } from '../../src/index';
import { Messenger } from '../../src/relay/messenger';

const [dir, vaultKey, seed, url, relayKey, peerKey, countText] = process.argv.slice(2) as string[];
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const count = Number(countText);
const peer = hex(peerKey as string);

async function main() {
  const vault = await Vault.open(dir as string, SecretKey.from(hex(vaultKey as string)));
  const messenger = await Messenger.open({
    vault,
    relay: { url: url as string },
    relayPublicKey: hex(relayKey as string),
    identity: IdentityKey.fromSeed(hex(seed as string)),
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
  });
  const isPeer = (from: Uint8Array) => Buffer.from(from).equals(Buffer.from(peer));
  let fromPeer = (await messenger.history()).filter((m) => isPeer(m.from)).length;
  const received = new Promise<void>((resolve) => {
    messenger.on('message', (m) => {
      if (isPeer(m.from)) fromPeer++;
      if (fromPeer >= count) resolve();
    });
    if (fromPeer >= count) resolve();
  });
  for (let i = 0; i < count; i++) {
    // The peer may not have registered yet the first time: wait for it. A
    // send refused as transient is retried inside; anything else ends the run.
    for (;;) {
      try {
        await messenger.send(peer, `m${i}`, { id: `m${i}` });
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== 'ERR_RELAY_UNKNOWN_RECIPIENT') throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
  await received;
  await messenger.close();
  vault.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
