/**
 * Two `keyward serve` processes sharing PostgreSQL and Redis (started by
 * `npm test`), as two instances behind a load balancer would: logins,
 * nonces, logouts and rate limits are shared.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { createClient } from '../src/client/index';
import { encodeBase64Url, OpaqueClient, SecretKey, ServerSetup } from '../src/index';
import { fast } from './helpers';

const root = join(__dirname, '..');
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

function instance(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-instance-'));
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli.ts'), 'serve', '--data', dir, '--port', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on (\S+)/.exec(text);
      if (match) resolve({ url: match[1], child, dir });
    });
    child.on('exit', (code) => reject(new Error(`keyward serve exited with ${code}`)));
  });
}

test('a login started on one instance finishes on the other; nonces and logouts are shared', async (t) => {
  const postgres = process.env.KEYWARD_TEST_PG;
  const redis = process.env.KEYWARD_TEST_REDIS;
  if (!postgres || !redis) throw new Error('KEYWARD_TEST_PG and KEYWARD_TEST_REDIS are unset: run the suite through `npm test`');
  const setup = ServerSetup.generate();
  const env = {
    KEYWARD_SERVER_SETUP: encodeBase64Url(setup.serialize()),
    KEYWARD_SEAL_KEY: encodeBase64Url(SecretKey.generate().exportBytes()),
    KEYWARD_POSTGRES_URL: postgres,
    KEYWARD_REDIS_URL: redis,
  };
  const [a, b] = await Promise.all([instance(env), instance(env)]);
  t.teardown(() => {
    for (const i of [a, b]) {
      i.child.kill('SIGTERM');
      rmSync(i.dir, { recursive: true, force: true });
    }
  });

  let captured: { headers: Headers; body: string } | undefined;
  const user = `alice-${process.pid}`;
  // Everything goes to A except the end of the login, which B finishes.
  const client = createClient({
    baseUrl: a.url,
    keyStretching: fast,
    serverPublicKey: setup.publicKey,
    fetch: async (url, init) => {
      const target = String(url).endsWith('/login/finish') ? String(url).replace(a.url, b.url) : String(url);
      if (target.endsWith('/api/transfer')) captured = { headers: new Headers(init!.headers), body: String(init!.body) };
      return fetch(target, init);
    },
  });
  await client.register(user, 'pw');
  await client.login(user, 'pw');

  const body = JSON.stringify({ to: 'bob', amount: 1 });
  t.is((await client.fetch('/api/transfer', { method: 'POST', body })).status, 200);
  const replayOnB = await fetch(`${b.url}/api/transfer`, { method: 'POST', headers: captured!.headers, body: captured!.body });
  t.is(replayOnB.status, 401);
  t.is(((await replayOnB.json()) as { error: { code: string } }).error.code, 'ERR_POP_REPLAY');

  // A logout on A revokes the session on B too.
  const headers = new Headers(captured!.headers);
  await client.logout();
  headers.set('x-nonce', 'fresh-nonce-after-logout');
  const afterLogout = await fetch(`${b.url}/api/transfer`, { method: 'POST', headers, body: captured!.body });
  t.is(afterLogout.status, 401);
  t.is(((await afterLogout.json()) as { error: { code: string } }).error.code, 'ERR_POP_NO_SESSION');
});

test('login failures counted on one instance make the same user and address wait on the other', async (t) => {
  const postgres = process.env.KEYWARD_TEST_PG;
  const redis = process.env.KEYWARD_TEST_REDIS;
  if (!postgres || !redis) throw new Error('KEYWARD_TEST_PG and KEYWARD_TEST_REDIS are unset: run the suite through `npm test`');
  const setup = ServerSetup.generate();
  const env = {
    KEYWARD_SERVER_SETUP: encodeBase64Url(setup.serialize()),
    KEYWARD_SEAL_KEY: encodeBase64Url(SecretKey.generate().exportBytes()),
    KEYWARD_POSTGRES_URL: postgres,
    KEYWARD_REDIS_URL: redis,
  };
  const [a, b] = await Promise.all([instance(env), instance(env)]);
  t.teardown(() => {
    for (const i of [a, b]) {
      i.child.kill('SIGTERM');
      rmSync(i.dir, { recursive: true, force: true });
    }
  });
  const user = `mallory-target-${process.pid}-${Date.now()}`;
  const opaque = new OpaqueClient({ keyStretching: fast });
  const start = (url: string) =>
    fetch(`${url}/login/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user, request: encodeBase64Url(opaque.startLogin('guess').request) }),
    });
  // Five logins started on A and never finished: five failures of this user from this address (the default before waits).
  for (let i = 0; i < 5; i++) t.is((await start(a.url)).status, 200);
  const refused = await start(b.url);
  t.is(refused.status, 429);
  t.is(((await refused.json()) as { error: { code: string } }).error.code, 'ERR_AUTH_RATE_LIMITED');
});
