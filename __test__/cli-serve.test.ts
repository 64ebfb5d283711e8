/**
 * `keyward serve` as a real process on a real data directory: every way out
 * (a signal, a bad option, a port in use, fastify missing) leaves the store closed
 * and exits with its code, so the next start on the same directory works;
 * secrets from files and standard input; --log-level and --trust-proxy.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as serenity from '@serenity-kit/opaque';
import test from 'ava';
import { encodeBase64Url, OpaqueClient, SecretKey, ServerSetup } from '../src/index';

const root = join(__dirname, '..');
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

interface Run {
  code: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the URL once the server listens; rejects if it exits first. */
  listening: Promise<string>;
  kill: (signal: NodeJS.Signals) => void;
}

function keyward(args: string[], options: { stdin?: string; env?: Record<string, string>; preload?: string } = {}): Run {
  const node = ['--import', tsx, ...(options.preload ? ['--import', pathToFileURL(options.preload).href] : []), join(root, 'src/cli.ts')];
  const env: NodeJS.ProcessEnv = { ...process.env, KEYWARD_SERVER_SETUP: '', KEYWARD_SEAL_KEY: '', ...options.env };
  delete env.KEYWARD_POSTGRES_URL;
  delete env.KEYWARD_REDIS_URL;
  const child = spawn(process.execPath, [...node, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(options.stdin ?? '');
  let out = '';
  let err = '';
  // 'close', not 'exit': 'exit' can come before the last of stderr is read, and the tests read it then.
  const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    void code.then((c) => reject(new Error(`keyward serve exited with ${c}: ${err}`)));
  });
  listening.catch(() => {});
  return { code, stdout: () => out, stderr: () => err, listening, kill: (s) => child.kill(s) };
}

function dataDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts serve on `dir`, checks it answers, stops it with `signal` and expects exit code 0. */
async function startAndStop(t: import('ava').ExecutionContext, dir: string, signal: NodeJS.Signals = 'SIGTERM', extra: string[] = []) {
  const run = keyward(['serve', '--data', dir, '--port', '0', ...extra]);
  const url = await run.listening;
  t.deepEqual(await (await fetch(`${url}/health`)).json(), { ok: true });
  run.kill(signal);
  t.is(await run.code, 0, run.stderr());
  return run;
}

test('SIGINT and SIGTERM stop serve with code 0 and close the store: the next start on the directory works', async (t) => {
  const dir = dataDir(t);
  await startAndStop(t, dir, 'SIGINT');
  await startAndStop(t, dir, 'SIGTERM');
  await startAndStop(t, dir, 'SIGTERM');
});

test('a bad --port is a usage error (code 2) before anything is opened; the directory still starts', async (t) => {
  const dir = dataDir(t);
  for (const port of ['abc', '65536', '-1', '8080x']) {
    const run = keyward(['serve', '--data', dir, `--port=${port}`]);
    t.is(await run.code, 2, port);
    t.regex(run.stderr(), /--port takes a whole number from 0 to 65535/);
  }
  await startAndStop(t, dir);
});

test('a port in use fails with code 1 and a clear message, and closes the store', async (t) => {
  const dir = dataDir(t);
  const busy: Server = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  // The first run creates the store and the secrets, the second opens existing ones.
  for (let i = 0; i < 2; i++) {
    const run = keyward(['serve', '--data', dir, '--port', String(port)]);
    t.is(await run.code, 1);
    t.regex(run.stderr(), new RegExp(`port ${port} on 127.0.0.1 is in use \\(ERR_ADDRESS_IN_USE\\)`));
  }
  await startAndStop(t, dir);
});

test('fastify missing: code 1, says to install it, before the store is opened', async (t) => {
  const dir = dataDir(t);
  // Node's own not-found errors for `fastify`, as in an application that did not install the
  // optional peer: for require() (the CommonJS build) and for import() (the sources under tsx).
  const hooks = join(dir, 'no-fastify-hooks.mjs');
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
  if (specifier === 'fastify') throw Object.assign(new Error("Cannot find package 'fastify'"), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}
`,
  );
  const preload = join(dir, 'no-fastify.mjs');
  writeFileSync(
    preload,
    `import Module, { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'fastify') throw Object.assign(new Error("Cannot find module 'fastify'"), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
`,
  );
  const run = keyward(['serve', '--data', dir, '--port', '0'], { preload });
  run.listening.then(
    () => run.kill('SIGTERM'),
    () => {},
  ); // fastify was found after all: fail, not hang
  t.is(await run.code, 1);
  t.regex(run.stderr(), /needs the fastify package: npm install fastify \(ERR_MISSING_PEER_DEPENDENCY\)/);
  t.deepEqual(readdirSync(dir).sort(), ['no-fastify-hooks.mjs', 'no-fastify.mjs'], 'no store or secret was created');
  await startAndStop(t, dir);
});

test('secrets from --setup-file and --seal-key-file (a file, or - for standard input), a serenity setup included', async (t) => {
  await serenity.ready;
  const dir = dataDir(t);
  const theirs = serenity.server.createSetup();
  const keyFile = join(dir, 'key.txt');
  writeFileSync(keyFile, `${encodeBase64Url(SecretKey.generate().exportBytes())}\n`);
  const run = keyward(['serve', '--data', dir, '--port', '0', '--setup-file', '-', `--seal-key-file=${keyFile}`], { stdin: `${theirs}\n` });
  await run.listening;
  t.true(run.stdout().includes(`server public key ${serenity.server.getPublicKey(theirs)})`));
  run.kill('SIGTERM');
  t.is(await run.code, 0);

  // The file wins over the environment; a keyward-form setup of another suite than --suite is refused.
  const p256 = ServerSetup.generate('p256_sha256');
  const setupFile = join(dir, 'setup.txt');
  writeFileSync(setupFile, encodeBase64Url(p256.serialize()));
  const env = { KEYWARD_SERVER_SETUP: encodeBase64Url(ServerSetup.generate().serialize()) };
  const second = keyward(['serve', '--data', dir, '--port', '0', '--setup-file', setupFile], { env });
  await second.listening;
  t.true(second.stdout().includes(`server public key ${encodeBase64Url(p256.publicKey)})`));
  second.kill('SIGINT');
  t.is(await second.code, 0);
  const mismatch = keyward(['serve', '--data', dir, '--port', '0', '--setup-file', setupFile, '--suite', 'p384_sha384']);
  t.is(await mismatch.code, 1);
  t.regex(mismatch.stderr(), /the server setup from .*setup\.txt is invalid: the setup is for p256_sha256, not --suite p384_sha384/);
});

test('unreadable, empty or malformed secrets fail with code 1 naming the source, never the value', async (t) => {
  const dir = dataDir(t);
  const missing = keyward(['serve', '--data', dir, '--port', '0', '--seal-key-file', join(dir, 'nope')]);
  t.is(await missing.code, 1);
  t.regex(missing.stderr(), /cannot read the seal key from .*nope \(ENOENT\)/);
  const empty = keyward(['serve', '--data', dir, '--port', '0', '--setup-file', '-'], { stdin: '\n' });
  t.is(await empty.code, 1);
  t.regex(empty.stderr(), /the server setup from standard input is empty/);
  const secret = 'not*base64url*secret';
  const bad = keyward(['serve', '--data', dir, '--port', '0'], { env: { KEYWARD_SEAL_KEY: secret } });
  t.is(await bad.code, 1);
  t.regex(bad.stderr(), /the seal key from KEYWARD_SEAL_KEY is invalid/);
  t.false(bad.stderr().includes(secret));
  const both = keyward(['serve', '--data', dir, '--setup-file', '-', '--seal-key-file', '-']);
  t.is(await both.code, 2);
  t.regex(both.stderr(), /cannot both read standard input/);
});

test('--log-level info logs requests as JSON lines; an unknown level is a usage error', async (t) => {
  const dir = dataDir(t);
  const run = keyward(['serve', '--data', dir, '--port', '0', '--log-level', 'info']);
  const url = await run.listening;
  await fetch(`${url}/health`);
  run.kill('SIGTERM');
  t.is(await run.code, 0);
  const logs = run
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; req?: { url?: string } });
  t.true(logs.some((l) => l.msg === 'incoming request' && l.req?.url === '/health'));
  const quiet = await startAndStop(t, dir);
  t.false(quiet.stdout().includes('incoming request'));
  const bad = keyward(['serve', '--data', dir, '--log-level', 'loud']);
  t.is(await bad.code, 2);
  t.regex(bad.stderr(), /--log-level takes one of fatal, error, warn, info, debug, trace, silent/);
});

/** Two login starts for different users from the given X-Forwarded-For addresses: their statuses. */
async function loginStarts(url: string, addresses: string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const [i, address] of addresses.entries()) {
    const request = encodeBase64Url(new OpaqueClient().startLogin('pw').request);
    const response = await fetch(`${url}/login/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ username: `user${i}`, request }),
    });
    statuses.push(response.status);
  }
  return statuses;
}

test('--trust-proxy: with the proxy trusted, the per-address limit counts X-Forwarded-For addresses', async (t) => {
  const dir = dataDir(t);
  const limits = ['--limit-address', '1', '--limit-user', '100'];
  const trusted = keyward(['serve', '--data', dir, '--port', '0', ...limits, '--trust-proxy', '127.0.0.1,::1']);
  const statuses = await loginStarts(await trusted.listening, ['203.0.113.1', '203.0.113.2', '203.0.113.1']);
  trusted.kill('SIGTERM');
  t.is(await trusted.code, 0);
  t.not(statuses[0], 429);
  t.not(statuses[1], 429);
  t.is(statuses[2], 429);

  const direct = keyward(['serve', '--data', dataDir(t), '--port', '0', ...limits]);
  const ignored = await loginStarts(await direct.listening, ['203.0.113.1', '203.0.113.2']);
  direct.kill('SIGTERM');
  t.is(await direct.code, 0);
  t.not(ignored[0], 429);
  t.is(ignored[1], 429);

  for (const value of ['2', '10.0.0.0/33', 'proxy.example', '']) {
    const bad = keyward(['serve', '--data', dir, `--trust-proxy=${value}`]);
    t.is(await bad.code, 2, value);
    t.regex(bad.stderr(), /--trust-proxy takes/);
  }
});

test('--no-registration refuses registration with 403; --limit-register-address 1 allows one start per address, then 429 with Retry-After', async (t) => {
  const closed = keyward(['serve', '--data', dataDir(t), '--port', '0', '--no-registration']);
  const body = (name: string) => JSON.stringify({ username: name, request: encodeBase64Url(new OpaqueClient().startRegistration('pw').request) });
  const post = (url: string, name: string) =>
    fetch(`${url}/register/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(name) });
  try {
    const answer = await post(await closed.listening, 'ann');
    t.is(answer.status, 403);
    t.is(((await answer.json()) as { error: { code: string } }).error.code, 'ERR_AUTH_REGISTRATION_DISABLED');
  } finally {
    closed.kill('SIGTERM');
    await closed.code;
  }

  const limited = keyward(['serve', '--data', dataDir(t), '--port', '0', '--limit-register-address', '1']);
  try {
    const url = await limited.listening;
    t.is((await post(url, 'bea')).status, 200);
    const refused = await post(url, 'cy');
    t.is(refused.status, 429);
    t.true(Number(refused.headers.get('retry-after')) >= 1);
  } finally {
    limited.kill('SIGTERM');
    await limited.code;
  }
});

test('--cors-origin: a listed origin may send the signature headers and read the refusal headers; others get no CORS answer; a bad origin is a usage error', async (t) => {
  const bad = keyward(['serve', '--data', dataDir(t), '--port', '0', '--cors-origin', 'app.example/path']);
  t.is(await bad.code, 2);
  t.regex(bad.stderr(), /--cors-origin takes an origin/);

  const run = keyward(['serve', '--data', dataDir(t), '--port', '0', '--cors-origin', 'http://app.example', '--cors-origin=http://other.example:8443']);
  try {
    const url = await run.listening;
    const preflight = (origin: string) =>
      fetch(`${url}/api/transfer`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-ts,x-nonce,x-pop' },
      });
    for (const origin of ['http://app.example', 'http://other.example:8443']) {
      const answer = await preflight(origin);
      t.true(answer.status < 300, origin);
      t.is(answer.headers.get('access-control-allow-origin'), origin);
      const allowed = (answer.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
      for (const header of ['authorization', 'content-type', 'x-ts', 'x-nonce', 'x-pop']) t.true(allowed.includes(header), header);
    }
    t.is((await preflight('http://evil.example')).headers.get('access-control-allow-origin'), null);
    const refused = await fetch(`${url}/api/transfer`, {
      method: 'POST',
      headers: { origin: 'http://app.example', 'content-type': 'application/json' },
      body: '{}',
    });
    t.is(refused.status, 401);
    t.is(refused.headers.get('access-control-allow-origin'), 'http://app.example');
    t.regex(refused.headers.get('access-control-expose-headers') ?? '', /www-authenticate/i);
  } finally {
    run.kill('SIGTERM');
    t.is(await run.code, 0);
  }
});
