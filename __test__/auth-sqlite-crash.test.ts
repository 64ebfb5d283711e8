/**
 * `keyward serve --data DIR` killed with SIGKILL: the SQLite store must
 * start again on the same files, with nothing deleted by hand, and keep
 * every registration it answered. Real processes, real files, the real
 * `keyward/client`.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { createClient } from '../src/client/index';
import { fast } from './helpers';

const root = join(__dirname, '..');
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

type Server = { url: string; child: ChildProcess };

/** Starts `keyward serve` on `dir`; rejects with what it printed if it exits before listening. */
function serve(dir: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli.ts'), 'serve', '--data', dir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve({ url: match[1], child });
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`keyward serve exited with ${code}: ${err.trim()}`)));
  });
}

function kill9(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve();
    server.child.once('exit', () => resolve());
    server.child.kill('SIGKILL');
  });
}

function scratch(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('killed with SIGKILL mid-registration, the server restarts on the same files and every answered registration logs in', async (t) => {
  const dir = scratch(t);
  const first = await serve(dir);
  t.teardown(() => kill9(first));
  const answered: string[] = [];
  let killed: Promise<void> | undefined;
  // The kill lands while a registration is on the wire, after ten were answered.
  const client = createClient({
    baseUrl: first.url,
    keyStretching: fast,
    fetch: async (url, init) => {
      const pending = fetch(url, init);
      if (answered.length >= 10 && String(url).endsWith('/register/finish')) killed ??= kill9(first);
      return pending;
    },
  });
  for (let i = 0; killed === undefined; i++) {
    const name = `user-${i}`;
    try {
      await client.register(name, `pw-${i}`);
      answered.push(name);
    } catch {
      // the request the kill interrupted
    }
  }
  await killed;
  t.true(answered.length >= 10);

  const second = await serve(dir);
  t.teardown(() => kill9(second));
  const again = createClient({ baseUrl: second.url, keyStretching: fast });
  for (const name of answered) {
    await again.login(name, `pw-${name.slice(5)}`);
    t.true(again.loggedIn, name);
    t.is((await again.fetch('/api/transfer', { method: 'POST', body: JSON.stringify({ to: 'bob', amount: 1 }) })).status, 200);
    await again.logout();
  }
});

test('several SIGKILL and restart cycles on one data directory: each start works, and everything answered before is there', async (t) => {
  const dir = scratch(t);
  const registered: string[] = [];
  for (let cycle = 0; cycle < 4; cycle++) {
    const server = await serve(dir);
    t.teardown(() => kill9(server));
    const client = createClient({ baseUrl: server.url, keyStretching: fast });
    for (const name of registered) {
      await client.login(name, 'pw');
      t.true(client.loggedIn, `${name} in cycle ${cycle}`);
    }
    const name = `cycle-${cycle}`;
    await client.register(name, 'pw');
    registered.push(name);
    // Killed right after a write, with a login state and a session live.
    await client.login(name, 'pw');
    await kill9(server);
  }
  t.is(registered.length, 4);
});
