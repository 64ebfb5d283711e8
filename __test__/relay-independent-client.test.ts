/**
 * The relay against a client that shares no code with it: the Python client
 * of interop/python-relay-client, written from docs/relay.md alone. Its
 * run.py re-derives the document's hex example and plays a scenario against
 * a real `keyward relay` over TCP, then again with one side on WebSocket
 * (offline delivery in order, acks, no redelivery, the documented error
 * codes, displacement, handshake refusals, what closes a connection)
 * and exits non-zero on any mismatch. The venv is made here from the pinned
 * requirements.txt when missing or stale (git-ignored).
 */

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';

const root = join(__dirname, '..');
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const clientDir = join(root, 'interop/python-relay-client');
const venv = join(clientDir, '.venv');
// A venv's layout and the interpreter's name differ on Windows (CI runs this file there too).
const windows = process.platform === 'win32';
const python = join(venv, windows ? 'Scripts/python.exe' : 'bin/python');
const pip = join(venv, windows ? 'Scripts/pip.exe' : 'bin/pip');
const systemPython = windows ? 'python' : 'python3';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], timeoutMs = 300_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: clientDir, timeout: timeoutMs, maxBuffer: 8 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || String(error?.message ?? '') });
    });
  });
}

/** Makes the venv once per run of this file; a stamp holds the requirements it was made from. */
let venvReady: Promise<void> | undefined;
function ensureVenv(): Promise<void> {
  venvReady ??= (async () => {
    const requirements = readFileSync(join(clientDir, 'requirements.txt'), 'utf8');
    const stamp = join(venv, 'requirements.stamp');
    if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === requirements) return;
    const version = await run(systemPython, ['--version']);
    if (version.code !== 0) {
      throw new Error(`${systemPython} is needed to run the independent relay client (interop/python-relay-client): ${version.stderr}`);
    }
    const made = await run(systemPython, ['-m', 'venv', '--clear', venv]);
    if (made.code !== 0) throw new Error(`${systemPython} -m venv failed: ${made.stderr}`);
    const installed = await run(pip, ['install', '--quiet', '-r', 'requirements.txt']);
    if (installed.code !== 0) throw new Error(`pip install -r requirements.txt failed: ${installed.stderr}`);
    writeFileSync(stamp, requirements);
  })();
  return venvReady;
}

/** `keyward relay` (the CLI from the sources) on SQLite in a temp dir, on ports the system picks. */
async function startRelay(t: ExecutionContext): Promise<{ url: string; port: number; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-relay-py-'));
  const child = spawn(
    process.execPath,
    ['--import', tsx, join(root, 'src/cli.ts'), 'relay', '--port', '0', '--tcp-port', '0', '--db', join(dir, 'relay.db'), '--key-file', join(dir, 'relay.key')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await closed;
    rmSync(dir, { recursive: true, force: true });
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (ws:\/\/\S+) and tcp:\/\/127\.0\.0\.1:(\d+) \(relay public key ([\w-]+)\)/.exec(out);
      if (m) resolve({ url: m[1], port: Number(m[2]), key: m[3] });
    });
    void closed.then(() => reject(new Error(`keyward relay exited before listening: ${err}`)));
  });
}

test('the Python client written from docs/relay.md alone passes its whole scenario against keyward relay, over TCP and WebSocket', async (t) => {
  t.timeout(300_000);
  await ensureVenv();
  const relay = await startRelay(t);
  const result = await run(python, ['run.py', '--port', String(relay.port), '--ws-url', relay.url, '--relay-key', relay.key]);
  t.is(result.code, 0, `run.py failed:\n${result.stderr}\n${result.stdout}`);
  // The scenario's checks all ran: the document's example and each step (see run.py).
  t.regex(result.stdout, /^ok {2}the document's hex example \(67 values\)$/m);
  t.regex(result.stdout, /^ok {2}the backlog holds the three messages, in order$/m);
  t.regex(result.stdout, /^ok {2}after the acks, a new connection's FETCH finds nothing$/m);
  t.regex(result.stdout, /^ok {2}a body over the cap$/m);
  t.regex(result.stdout, /^ok {2}a handshake pinning another relay key gets no reply$/m);
  t.regex(result.stdout, /^ok {2}--- again, Alice on TCP and Bob on WebSocket$/m);
  t.regex(result.stdout, /^ok {2}WebSocket: a text message ends the connection, no ERROR sent$/m);
  t.regex(result.stdout, /^\d+ checks passed$/m);
});

test('run.py fails, naming the step, when the relay is not the one it pins', async (t) => {
  t.timeout(300_000);
  await ensureVenv();
  const relay = await startRelay(t);
  // Another relay's key: the handshake cannot complete, so the scenario's first connection fails.
  const other = Buffer.alloc(32, 9).toString('base64url');
  const result = await run(python, ['run.py', '--port', String(relay.port), '--relay-key', other]);
  t.is(result.code, 1, result.stdout);
  t.regex(result.stderr, /^FAILED after \d+ checks: ConnectionClosed/m);
});

test("run.py fails when the document's hex example and the client disagree", async (t) => {
  t.timeout(300_000);
  await ensureVenv();
  const dir = mkdtempSync(join(tmpdir(), 'keyward-relay-py-doc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // One nibble of REGISTER's TCP bytes changed: the check must name that line before any connection.
  const doc = readFileSync(join(root, 'docs/relay.md'), 'utf8');
  const wire = 'wire    0000001e5e8fadf36fe7f44bcea2ba1cede2135406789e20b80a1ebd561b407a';
  t.true(doc.includes(wire));
  writeFileSync(join(dir, 'relay.md'), doc.replace(wire, wire.replace('5e8f', '5e8e')));
  const result = await run(python, ['run.py', '--port', '1', '--relay-key', Buffer.alloc(32).toString('base64url'), '--doc', join(dir, 'relay.md')]);
  t.is(result.code, 1, result.stdout);
  t.regex(result.stderr, /^FAILED after \d+ checks: AssertionError: example: REGISTER wire/m);
});
