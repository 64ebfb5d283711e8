/**
 * `keyward relay` as a real process: it prints the key clients pin and
 * serves both transports; its key file is created once (mode 0600) and
 * reused; every way out (a signal, a port in use) closes the store, so the
 * next start on the same file works; exit codes 0, 1 and 2.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import WebSocket from 'ws';
import { decodeBase64Url } from '../src/bytes';
import { RelayConnection } from '../src/relay/connection';
import { IdentityKey } from '../src/session';

const root = join(__dirname, '..');
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

interface Run {
  code: Promise<number | null>;
  stderr: () => string;
  /** The printed WebSocket URL, TCP address and relay key, once it listens; rejects if it exits first. */
  listening: Promise<{ url: string; tcp: { host: string; port: number }; key: string }>;
  kill: (signal: NodeJS.Signals) => void;
}

function keyward(args: string[]): Run {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.KEYWARD_POSTGRES_URL;
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli.ts'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const listening = new Promise<{ url: string; tcp: { host: string; port: number }; key: string }>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (ws:\/\/\S+) and tcp:\/\/([\d.]+):(\d+) \(relay public key ([\w-]+)\)/.exec(out);
      if (m) resolve({ url: m[1], tcp: { host: m[2], port: Number(m[3]) }, key: m[4] });
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    void code.then((c) => reject(new Error(`keyward relay exited with ${c}: ${err}`)));
  });
  listening.catch(() => {});
  return { code, stderr: () => err, listening, kill: (s) => child.kill(s) };
}

function dir(t: ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'keyward-relay-cli-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Starts the relay on `d`, registers over both transports with the printed key, stops it with `signal` (exit code 0). */
async function startAndStop(t: ExecutionContext, d: string, signal: NodeJS.Signals = 'SIGTERM') {
  const run = keyward(['relay', '--port', '0', '--tcp-port', '0', '--db', join(d, 'relay.db'), '--key-file', join(d, 'relay.key')]);
  const { url, tcp, key } = await run.listening;
  const identity = IdentityKey.generate();
  const relayPublicKey = decodeBase64Url(key);
  const ws = await RelayConnection.connect({ url }, { identity, relayPublicKey, device: 1 });
  const raw = await RelayConnection.connect({ tcp }, { identity, relayPublicKey, device: 2 });
  t.deepEqual((await raw.request({ type: 'ListDevices', identity: identity.publicKey })).devices, [1, 2]);
  await ws.close();
  await raw.close();
  run.kill(signal);
  t.is(await run.code, 0, run.stderr());
  return key;
}

test('keyward relay serves both transports with the printed key; the key file is made once, mode 0600; signals exit 0', async (t) => {
  const d = dir(t);
  const first = await startAndStop(t, d, 'SIGINT');
  if (process.platform !== 'win32') t.is(statSync(join(d, 'relay.key')).mode & 0o777, 0o600);
  t.is(await startAndStop(t, d, 'SIGTERM'), first, 'the same key on the next start');
});

test('a port in use is exit code 1 and closes the store; the next start on the file works', async (t) => {
  const d = dir(t);
  const busy: Server = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const run = keyward(['relay', '--port', '0', '--tcp-port', String(port), '--db', join(d, 'relay.db'), '--key-file', join(d, 'relay.key')]);
  t.is(await run.code, 1);
  t.regex(run.stderr(), new RegExp(`port ${port} on 127.0.0.1 is in use \\(ERR_ADDRESS_IN_USE\\)`));
  await startAndStop(t, d);
});

test('--keep-alive-ms reaches the server: a WebSocket peer that answers no ping is closed', async (t) => {
  const d = dir(t);
  const run = keyward(['relay', '--port', '0', '--tcp-port', '0', '--keep-alive-ms', '200', '--db', join(d, 'relay.db'), '--key-file', join(d, 'relay.key')]);
  t.teardown(() => run.kill('SIGKILL'));
  const { url } = await run.listening;
  const ws = new WebSocket(url, { autoPong: false });
  ws.on('error', () => {});
  let pings = 0;
  ws.on('ping', () => pings++);
  await new Promise((resolve) => ws.once('close', resolve));
  t.true(pings >= 1);
  run.kill('SIGTERM');
  t.is(await run.code, 0, run.stderr());
});

test('usage errors are exit code 2; a bad key file is 1 and never echoed', async (t) => {
  const d = dir(t);
  for (const [args, message] of [
    [['relay'], /give --port \(WebSocket\), --tcp-port \(TCP\), or both/],
    [['relay', '--port', 'x'], /--port takes a whole number from 0 to 65535/],
    [['relay', '--port', '0', '--db', 'a', '--postgres', 'postgres://x'], /--db and --postgres are two stores/],
    [['relay', '--port', '0', '--setup-file', 'x'], /--setup-file is an option of get-server-public-key, not of relay/],
    [['relay', '--port', '0', '--keep-alive-ms', 'soon'], /--keep-alive-ms takes a whole number from 0 to 2147483647/],
    [['relay', '--port', '0', '--keep-alive-ms', '2147483648'], /--keep-alive-ms takes a whole number from 0 to 2147483647/],
  ] as const) {
    const run = keyward([...args]);
    t.is(await run.code, 2, args.join(' '));
    t.regex(run.stderr(), message);
  }
  const secret = 'not-a-key-but-a-secret-looking-value';
  writeFileSync(join(d, 'bad.key'), secret);
  const run = keyward(['relay', '--port', '0', '--db', join(d, 'relay.db'), '--key-file', join(d, 'bad.key')]);
  t.is(await run.code, 1);
  t.regex(run.stderr(), /the relay key from .*bad\.key is invalid/);
  t.false(run.stderr().includes(secret));
  t.is(readFileSync(join(d, 'bad.key'), 'utf8'), secret, 'an existing key file is never rewritten');
});
