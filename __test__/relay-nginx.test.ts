/**
 * The relay behind nginx, as it is deployed: nginx takes the WebSocket
 * upgrade at a path of its own (/chat/relay) and proxies it to the relay's
 * (/relay). Like every reverse proxy, nginx closes a proxied connection on
 * which the server sent nothing for `proxy_read_timeout` (60 s by default,
 * 1 s here, so the test runs in seconds): a messenger that waits quietly for
 * messages is exactly such a connection. The relay's WebSocket pings
 * (`keepAliveMs`) keep it open; without them nginx cuts it and the messenger
 * has to reconnect.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { RelayConnection } from '../src/relay/connection';
import { RelayKey } from '../src/relay/key';
import { Messenger, type ReceivedMessage } from '../src/relay/messenger';
import { IdentityKey } from '../src/session';
import { selfSignedCertificate, startNginx } from './support/nginx';
import { type Relay, startRelay, str, vaultFor } from './support/relay-harness';

/** nginx's idle timeout in this test, in seconds. */
const PROXY_TIMEOUT_S = 1;

const proxied = (relay: Relay) => {
  const { port } = relay.addresses.websocket as { port: number };
  return `location /chat/relay {
      proxy_pass http://127.0.0.1:${port}/relay;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout ${PROXY_TIMEOUT_S}s;
      proxy_send_timeout ${PROXY_TIMEOUT_S}s;
    }
    location / { return 404; }`;
};

/** A messenger through nginx, counting its disconnections; closed after the test. */
async function behindNginx(t: ExecutionContext, relay: Relay, url: string, keepAliveMs?: number, ca?: string) {
  const vault = await (await vaultFor(t)).open();
  const m = await Messenger.open({ vault, relay: { url, ca }, relayPublicKey: relay.key.publicKey, keepAliveMs });
  t.teardown(() => m.close());
  const counts = { disconnected: 0, connected: 0 };
  m.on('disconnected', () => counts.disconnected++);
  await new Promise<void>((resolve) => m.once('connected', () => resolve()));
  m.on('connected', () => counts.connected++);
  return { m, counts };
}

async function next(m: Messenger): Promise<ReceivedMessage> {
  for await (const message of m.messages()) return message;
  throw new Error('the messenger closed');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test.serial(
  'nginx: through a proxy path, two messengers idle for three of its timeouts stay connected (the relay pings) and a later message arrives',
  async (t) => {
    const relay = await startRelay(t, { server: { keepAliveMs: 250 } });
    const url = `ws://127.0.0.1:${await startNginx(t, proxied(relay))}/chat/relay`;
    const [alice, bob] = [await behindNginx(t, relay, url), await behindNginx(t, relay, url)];

    await alice.m.send(bob.m.identity.publicKey, 'before');
    t.is(str((await next(bob.m)).plaintext), 'before');

    await sleep(3500 * PROXY_TIMEOUT_S);
    t.deepEqual(alice.counts, { disconnected: 0, connected: 0 }, 'nginx left the idle connection open');
    t.deepEqual(bob.counts, { disconnected: 0, connected: 0 });

    // Pushed at once over the open connection, not found by a reconnect.
    const arrived = next(bob.m);
    await alice.m.send(bob.m.identity.publicKey, 'after');
    t.is(str((await arrived).plaintext), 'after');
    t.is(bob.counts.disconnected, 0);
  },
);

test.serial('nginx: without keep-alive, nginx cuts idle connections after its timeout; the messengers reconnect and nothing is lost', async (t) => {
  const relay = await startRelay(t, { server: { keepAliveMs: 0 } });
  const url = `ws://127.0.0.1:${await startNginx(t, proxied(relay))}/chat/relay`;
  const [alice, bob] = [await behindNginx(t, relay, url, 0), await behindNginx(t, relay, url, 0)];

  await alice.m.send(bob.m.identity.publicKey, 'before');
  t.is(str((await next(bob.m)).plaintext), 'before');

  await sleep(3500 * PROXY_TIMEOUT_S);
  t.true(bob.counts.disconnected >= 1, 'nginx closed the silent connection');
  t.true(alice.counts.disconnected >= 1);

  const arrived = next(bob.m);
  await alice.m.send(bob.m.identity.publicKey, 'after');
  t.is(str((await arrived).plaintext), 'after');
  t.deepEqual(
    (await bob.m.history()).map((message) => str(message.plaintext)),
    ['before', 'after'],
  );
});

test.serial('nginx: a path nginx does not proxy is its 404, and the connection error says so', async (t) => {
  const relay = await startRelay(t);
  const url = `ws://127.0.0.1:${await startNginx(t, proxied(relay))}/elsewhere`;
  const error = await t.throwsAsync(
    RelayConnection.connect({ url }, { identity: IdentityKey.generate(), relayPublicKey: relay.key.publicKey, device: 1, timeoutMs: 5000 }),
  );
  t.is((error as { code?: string }).code, 'ERR_RELAY_CLOSED');
  t.regex(error.message, /cannot connect to the relay \(Unexpected server response: 404\)/);
});

test.serial(
  'nginx: wss:// through nginx terminating TLS: messengers that trust its certificate (ca) exchange messages; a client without it is refused by TLS',
  async (t) => {
    const relay = await startRelay(t);
    const certificate = selfSignedCertificate();
    const port = await startNginx(t, proxied(relay), certificate);
    const url = `wss://127.0.0.1:${port}/chat/relay`;
    const [alice, bob] = [await behindNginx(t, relay, url, undefined, certificate.cert), await behindNginx(t, relay, url, undefined, certificate.cert)];

    const toBob = next(bob.m);
    await alice.m.send(bob.m.identity.publicKey, 'over TLS');
    t.is(str((await toBob).plaintext), 'over TLS');
    const toAlice = next(alice.m);
    await bob.m.send(alice.m.identity.publicKey, 'and back');
    t.is(str((await toAlice).plaintext), 'and back');

    // Node's default trust store does not know the self-signed certificate.
    const options = { identity: IdentityKey.generate(), relayPublicKey: relay.key.publicKey, device: 1, timeoutMs: 5000 };
    const untrusted = await t.throwsAsync(RelayConnection.connect({ url }, options));
    t.is((untrusted as { code?: string }).code, 'ERR_RELAY_CLOSED');
    t.regex(untrusted.message, /cannot connect to the relay \(self.signed certificate/);
    // Another certificate as the only trusted one: refused as well.
    const other = await t.throwsAsync(RelayConnection.connect({ url, ca: selfSignedCertificate().cert }, options));
    t.is((other as { code?: string }).code, 'ERR_RELAY_CLOSED');
  },
);

/** A certificate whose key was thrown away (fixtures/tls/test-certificate.pem, made once with openssl): any parsable one does for these checks. */
const pem = readFileSync(join(__dirname, '..', 'fixtures', 'tls', 'test-certificate.pem'), 'utf8');

test('the endpoint is checked before any socket: a URL the WebSocket client would refuse, and ca that is not certificates, are typed errors that do not echo the URL', async (t) => {
  const options = { identity: IdentityKey.generate(), relayPublicKey: RelayKey.generate().publicKey, device: 1 };
  const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
  for (const [endpoint, message] of [
    [{ url: 'ws://' }, /url must be a ws:\/\/ or wss:\/\/ URL/],
    [{ url: 'wss://relay.example/x#frag' }, /no #fragment/],
    [{ url: 'ws://user:hunter2@relay.example:99999/' }, /url must be/],
    [{ url: 'http://relay.example/' }, /url must be/],
    [{ url: 'ws://127.0.0.1:1/relay', ca: pem }, /ca applies to a wss:\/\/ URL only/],
    [{ url: 'wss://127.0.0.1:1/relay', ca: 42 }, /ca must be PEM certificates/],
    [{ url: 'wss://127.0.0.1:1/relay', ca: [] }, /ca must be PEM certificates/],
    [{ url: 'wss://127.0.0.1:1/relay', ca: [pem, {}] }, /ca must be PEM certificates/],
    [{ url: 'wss://127.0.0.1:1/relay', ca: 'pem' }, /ca must hold PEM certificates/],
    [{ url: 'wss://127.0.0.1:1/relay', ca: [pem, ''] }, /ca must hold PEM certificates/],
    [{ url: 'wss://127.0.0.1:1/relay', ca: broken }, /ca holds a certificate that does not parse/],
  ] as const) {
    const error = await t.throwsAsync(RelayConnection.connect(endpoint as never, options));
    t.is((error as { code?: string }).code, 'ERR_INVALID_ARG_VALUE', endpoint.url);
    t.regex(error.message, message);
    t.false(error.message.includes('hunter2'));
  }
  // Valid ones pass the checks, and the connect fails only for want of a relay (nothing listens on port 1).
  for (const ca of [pem, Buffer.from(pem), [pem, new Uint8Array(Buffer.from(pem))]]) {
    const error = await t.throwsAsync(RelayConnection.connect({ url: 'wss://127.0.0.1:1/relay', ca }, options));
    t.is((error as { code?: string }).code, 'ERR_RELAY_CLOSED');
  }
});
