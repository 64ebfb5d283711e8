/**
 * `npm run demo`: starts the reference server (`keyward serve`, SQLite in a
 * scratch directory) on loopback and runs a client through it: register,
 * log in with OPAQUE, a signed transfer, then the attacks a stolen token or a
 * captured request would attempt, each shown refused; then an end-to-end
 * session between alice and bob (`e2e-part.ts`), and messaging through
 * `keyward relay` (`messaging-part.ts`). Exits non-zero if any step
 * does not turn out as expected.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../src/client/index';
import { decodeBase64Url, derivePopKey, signRequest } from '../src/index';
import { e2ePart } from './e2e-part';
import { messagingPart } from './messaging-part';

const ksf = { iterations: 3, memory: 65536, parallelism: 4 }; // the memory-constrained preset, spelled out
let failures = 0;
const say = (who: string, text: string) => console.log(`${who.padEnd(8)} ${text}`);
function expect(ok: boolean, text: string) {
  say(ok ? '  ✔' : '  ✘', text);
  if (!ok) failures++;
}

async function startServer(dir: string): Promise<{ url: string; publicKey: string; stop: () => void }> {
  const cli = join(__dirname, '../dist/cli.js');
  const child = spawn(process.execPath, [cli, 'serve', '--data', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on (\S+) \(server public key (\S+)\)/.exec(text);
      if (match) resolve({ url: match[1], publicKey: match[2], stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`keyward serve exited (${code})`)));
  });
}

/** `status code` of a refused request. */
async function refused(response: Response): Promise<string> {
  const body = (await response.json()) as { error?: { code: string } };
  return `${response.status} ${body.error?.code ?? ''}`;
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'logged in',
    (e: Error & { code?: string }) => e.code ?? e.message,
  );

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-demo-'));
  const server = await startServer(dir);
  say('server', `keyward serve on ${server.url}, data in ${dir}`);
  say('server', `OPAQUE public key ${server.publicKey} (clients pin it)`);
  try {
    let last: { url: string; headers: Headers; body: string } | undefined;
    const client = createClient({
      baseUrl: server.url,
      keyStretching: ksf,
      serverPublicKey: decodeBase64Url(server.publicKey),
      fetch: async (url, init) => {
        if (String(url).includes('/api/')) last = { url: String(url), headers: new Headers(init!.headers), body: String(init!.body) };
        return fetch(url, init);
      },
    });

    say('alice', 'registers: the password never leaves this process; the server stores an OPAQUE record');
    await client.register('alice', 'correct horse battery staple');
    say('alice', 'logs in: OPAQUE with Argon2id on her side; both sides derive a session key');
    const { expiresAt } = await client.login('alice', 'correct horse battery staple');
    say('alice', `session until ${new Date(expiresAt).toISOString()}; bearer ${client.bearerToken!.slice(0, 24)}… (useless alone)`);

    const body = JSON.stringify({ to: 'bob', amount: 25 });
    const ok = await client.fetch('/api/transfer', { method: 'POST', body });
    expect(ok.status === 200, `signed POST /api/transfer → ${ok.status} ${JSON.stringify(await ok.json())}`);
    const captured = last!;
    const send = (headers: HeadersInit, sent = body) => fetch(captured.url, { method: 'POST', headers, body: sent }).then(refused);

    say('mallory', 'replays the captured request byte for byte');
    const replayed = await send(captured.headers);
    expect(replayed === '401 ERR_POP_REPLAY', `→ ${replayed}`);

    say('mallory', 'has the bearer token but not the key, and signs with a key of her own');
    const token = captured.headers.get('authorization')!.slice('Bearer '.length);
    const forgedKey = derivePopKey(randomBytes(64), 'mallory', { bearer: token });
    const forged = () => ({ ...signRequest(forgedKey, { method: 'POST', url: '/api/transfer', body }), 'content-type': 'application/json' });
    const stolen = await send(forged());
    expect(stolen === '401 ERR_POP_BAD_MAC', `→ ${stolen}`);

    say('mallory', 'raises the amount in a captured request (with a fresh nonce)');
    const tamperedHeaders = new Headers(captured.headers);
    tamperedHeaders.set('x-nonce', randomBytes(16).toString('base64url'));
    const tampered = await send(tamperedHeaders, body.replace('25', '2500'));
    expect(tampered === '401 ERR_POP_BAD_MAC', `→ ${tampered}`);

    say('mallory', 'sends a captured request five minutes late (with a fresh nonce)');
    const staleHeaders = new Headers(captured.headers);
    staleHeaders.set('x-ts', String(Date.now() - 5 * 60_000));
    staleHeaders.set('x-nonce', randomBytes(16).toString('base64url'));
    const stale = await send(staleHeaders);
    expect(stale === '401 ERR_POP_STALE', `→ ${stale}`);

    const attacker = createClient({ baseUrl: server.url, keyStretching: ksf, serverPublicKey: decodeBase64Url(server.publicKey) });
    say('mallory', "tries alice's account with a wrong password");
    const wrong = await codeOf(attacker.login('alice', 'password123'));
    expect(wrong === 'ERR_OPAQUE_INVALID_LOGIN', `→ ${wrong}`);
    say('mallory', 'tries an account that does not exist');
    const unknown = await codeOf(attacker.login('nobody', 'password123'));
    expect(unknown === 'ERR_OPAQUE_INVALID_LOGIN', `→ ${unknown} (the same answer: no user enumeration)`);

    e2ePart(say, expect);
    await messagingPart(say, expect, dir);

    say('alice', 'logs out: the session is revoked');
    await client.logout();
    const afterLogout = await send(forged());
    expect(afterLogout === '401 ERR_POP_NO_SESSION', `the token after logout → ${afterLogout}`);
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(failures === 0 ? '\nall steps turned out as expected' : `\n${failures} step(s) did not turn out as expected`);
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
