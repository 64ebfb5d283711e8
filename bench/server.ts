/**
 * `npm run bench:server`: the reference server (`keyward serve`) on loopback,
 * driven with autocannon, with SQLite and with PostgreSQL + Redis (started
 * like the tests start them), against the same Fastify routes with
 * @serenity-kit/opaque as the OPAQUE engine; plus in-process PoP verification
 * against a bare node:crypto HMAC-SHA256 of the same canonical request.
 *
 * The comparisons run in alternating short rounds (keyward, anchor, anchor,
 * keyward, ...) over the same load, and report the median of the per-round
 * ratios with their spread: on this shared 2-core box, phases run one after
 * the other let the load of the moment decide (two runs a minute apart once
 * gave 1.7× and 7.2×). Not a test.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as serenity from '@serenity-kit/opaque';
import autocannon from 'autocannon';
import { startServices } from '../scripts/services.mjs';
import { createClient } from '../src/client/index';
import {
  createAuthService,
  derivePopKey,
  encodeBase64Url,
  MemoryStore,
  OpaqueClient,
  type PopHeaders,
  SecretKey,
  ServerSetup,
  signRequest,
} from '../src/index';
import { fmt, interleaved, paired, type Spread, showSpread, spread } from './harness';

const minimal = { iterations: 1, memory: 8, parallelism: 1 };
const root = join(__dirname, '..');
const USERS = 200;
const SECONDS = 8;
/** Alternating rounds for the ratios: each side gets `ROUNDS` runs of `ROUND_SECONDS`. */
const ROUNDS = 8;
const ROUND_SECONDS = 2;

interface Server {
  url: string;
  publicKey: string;
  stop: () => void;
}

function start(args: string[], env: Record<string, string> = {}): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on (\S+) \(server public key (\S+)\)/.exec(text);
      if (match) resolve({ url: match[1], publicKey: match[2], stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

const keywardServe = (dir: string, env: Record<string, string> = {}) =>
  start([join(root, 'dist/cjs/cli.js'), 'serve', '--data', dir, '--port', '0', ...unlimited], env);

/** The load comes from one address and cycles through a few names: no limit may bite. */
const unlimited = ['limit-user', 'limit-address', 'limit-register-address', 'limit-register-user'].flatMap((name) => [`--${name}`, '1000000000']);

const post = (url: string, body: object) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Registers `USERS` users through the HTTP API; returns their names. */
async function register(server: Server, prefix: string): Promise<string[]> {
  const client = new OpaqueClient({ keyStretching: minimal });
  const names: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const name = `${prefix}-${i}`;
    const start = client.startRegistration('pw');
    const response = await post(`${server.url}/register/start`, { username: name, request: encodeBase64Url(start.request) });
    const { response: reply } = (await response.json()) as { response: string };
    const done = client.finishRegistrationSync(start.state, 'pw', Buffer.from(reply, 'base64url'));
    const finished = await post(`${server.url}/register/finish`, { username: name, upload: encodeBase64Url(done.upload) });
    if (finished.status !== 200) throw new Error(`registration of ${name} answered ${finished.status}`);
    names.push(name);
  }
  return names;
}

/** Full logins (start, client OPAQUE with minimal Argon2id, finish), 8 at a time. Counts users that failed to log in. */
async function logins(server: Server, names: string[]): Promise<{ perSecond: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const worker = async () => {
    const client = createClient({ baseUrl: server.url, keyStretching: minimal });
    while (next < names.length) {
      const name = names[next++];
      await client.login(name, 'pw').catch(() => failed++);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { perSecond: names.length / ((performance.now() - started) / 1000), failed };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function drive(url: string, setupRequest: (req: autocannon.Request) => autocannon.Request, seconds = SECONDS): Promise<Load> {
  const result = await autocannon({ url, connections: 10, duration: seconds, requests: [{ method: 'POST', setupRequest }] });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx + result.timeouts };
}

/** `POST /login/start` with pre-generated KE1 messages for registered users. */
function loginStart(server: Server, names: string[], suite: 'keyward' | 'serenity', seconds = SECONDS): Promise<Load> {
  const bodies = names.map((name) => {
    const request =
      suite === 'keyward'
        ? encodeBase64Url(new OpaqueClient({ keyStretching: minimal }).startLogin('pw').request)
        : serenity.client.startLogin({ password: 'pw' }).startLoginRequest;
    return JSON.stringify({ username: name, request });
  });
  let i = 0;
  return drive(`${server.url}/login/start`, (req) => ({ ...req, headers: { 'content-type': 'application/json' }, body: bodies[i++ % bodies.length] }), seconds);
}

/** `POST /api/transfer`, each request freshly signed by the load generator. */
async function signedRequests(server: Server): Promise<Load> {
  const client = createClient({ baseUrl: server.url, keyStretching: minimal });
  await client.register('bench-signer', 'pw');
  const opaque = new OpaqueClient({ keyStretching: minimal });
  const start = opaque.startLogin('pw');
  const started = (await (await post(`${server.url}/login/start`, { username: 'bench-signer', request: encodeBase64Url(start.request) })).json()) as Record<
    string,
    string
  >;
  const done = opaque.finishLoginSync(start.state, 'pw', Buffer.from(started.response, 'base64url'));
  const session = (await (
    await post(`${server.url}/login/finish`, { loginState: started.loginState, finalization: encodeBase64Url(done.finalization) })
  ).json()) as Record<string, string>;
  const popKey = derivePopKey(done.sessionKey, session.sessionId, { bearer: session.token });
  const body = JSON.stringify({ to: 'bob', amount: 1 });
  return drive(`${server.url}/api/transfer`, (req) => ({
    ...req,
    body,
    headers: { ...signRequest(popKey, { method: 'POST', url: '/api/transfer', body }), 'content-type': 'application/json' },
  }));
}

/**
 * The canonical request of docs/pop.md, written here from the spec alone: the
 * baseline's input, and a check of the spec against keyward's signatures.
 */
function canonical(method: string, target: string, ts: string, nonce: string, body: Uint8Array): Buffer {
  const fields = [
    Buffer.from('keyward pop request v2'),
    Buffer.from(method.toUpperCase()),
    Buffer.from(target),
    Buffer.from(ts),
    Buffer.from(nonce),
    createHash('sha256').update(body).digest(),
  ];
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  return Buffer.concat([u64(fields.length), ...fields.flatMap((f) => [u64(f.length), f])]);
}

interface PopRatio {
  ratio: Spread;
  keyward: number;
  baseline: number;
}

/**
 * In-process: `service.verify` of a signed request (session lookup, header
 * parsing, window, MAC, replay cache; memory store) against the least any
 * verifier must do: node:crypto's HMAC-SHA256 over the same canonical request
 * and a constant-time compare. Rounds alternate the two; the ratio is
 * keyward's time over the baseline's.
 */
async function popVerifyRatio(): Promise<PopRatio> {
  const service = createAuthService({ serverSetup: ServerSetup.generate(), store: new MemoryStore(), sealKey: SecretKey.generate() });
  const opaque = new OpaqueClient({ keyStretching: minimal });
  const b64 = encodeBase64Url;
  const reg = opaque.startRegistration('pw');
  const { response } = await service.registerStart({ username: 'u', request: b64(reg.request) });
  const r = opaque.finishRegistrationSync(reg.state, 'pw', Buffer.from(response, 'base64url'));
  await service.registerFinish({ username: 'u', upload: b64(r.upload) });
  const login = opaque.startLogin('pw');
  const started = await service.loginStart({ username: 'u', request: b64(login.request) });
  const done = opaque.finishLoginSync(login.state, 'pw', Buffer.from(started.response, 'base64url'));
  const session = await service.loginFinish({ loginState: started.loginState, finalization: b64(done.finalization) });
  const popKey = derivePopKey(done.sessionKey, session.sessionId, { bearer: session.token });
  const keyBytes = popKey.exportBytes();
  // A Buffer, as the adapters pass it (the raw body bytes).
  const body = Buffer.from(JSON.stringify({ to: 'bob', amount: 1 }));
  const rounds = 15;
  const batch = 2000;
  // Headers as an HTTP parser hands them over: fresh flat strings. Those
  // signRequest builds are concatenations, which V8 would flatten (copy) on
  // first use; a server never sees one. Every request has its own nonce.
  const count = (rounds + 2) * batch * 2;
  const signed = Array.from(
    { length: count },
    () => JSON.parse(JSON.stringify(signRequest(popKey, { method: 'POST', url: '/api/transfer', body }))) as PopHeaders,
  );
  // The baseline's input is ready-made: its canonical bytes and its MAC, decoded. It
  // measures the HMAC and the compare alone, the floor under any verifier.
  const prepared = signed.map((h) => ({
    canonical: canonical('POST', '/api/transfer', h['x-ts'], h['x-nonce'], body),
    mac: Buffer.from(h['x-pop'], 'base64url'),
  }));
  const baselineCheck = (p: { canonical: Buffer; mac: Buffer }) => timingSafeEqual(createHmac('sha256', keyBytes).update(p.canonical).digest(), p.mac);
  // Outputs equal first: the baseline accepts every MAC keyward signed (keyward's own acceptance is checked as it runs).
  for (const p of prepared) if (!baselineCheck(p)) throw new Error('the baseline and keyward disagree on the canonical request');
  // The signing above is the load generator's work, not the verifier's: collect its garbage first.
  (globalThis as { gc?: () => void }).gc?.();
  let i = 0;
  let j = 0;
  const ratios: number[] = [];
  const times: [number[], number[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    const [k, base] = await paired(
      () => service.verify({ method: 'POST', url: '/api/transfer', headers: signed[i++], body }), // throws on any refusal
      () => {
        if (!baselineCheck(prepared[j++ % prepared.length])) throw new Error('baseline refused');
      },
      1,
      batch,
    );
    times[0].push(k);
    times[1].push(base);
    ratios.push(k / base);
  }
  return { ratio: spread(ratios), keyward: spread(times[0]).median, baseline: spread(times[1]).median };
}

async function main() {
  await serenity.ready;
  const pop = await popVerifyRatio();
  const popLine = `in-process PoP verification (service.verify, all checks, memory store) ÷ bare node:crypto HMAC-SHA256 of the canonical request: ${showSpread(pop.ratio)} (medians ${fmt(pop.keyward)} and ${fmt(pop.baseline)}; target ≤ 1.5×)`;
  // `npm run bench:server -- pop`: only the in-process verification.
  if (process.argv[2] === 'pop') {
    console.log(popLine);
    return;
  }
  const rows: string[] = [];
  const row = (name: string, load: Load, extra = '') =>
    rows.push(`| ${name} | ${load.rps.toFixed(0)} | ${load.p50.toFixed(1)} ms | ${load.p99.toFixed(1)} ms | ${load.errors} | ${extra} |`);

  const services = await startServices();
  const scratch = mkdtempSync(join(tmpdir(), 'keyward-bench-'));
  let comparison: { ratio: Spread; keyward: Load[]; serenity: Load[] } | undefined;
  try {
    const backends: [string, Record<string, string>][] = [
      ['SQLite', {}],
      ['PostgreSQL + Redis', { KEYWARD_POSTGRES_URL: services.env.KEYWARD_TEST_PG, KEYWARD_REDIS_URL: services.env.KEYWARD_TEST_REDIS }],
    ];
    for (const [label, env] of backends) {
      const server = await keywardServe(mkdtempSync(join(scratch, 'data-')), env);
      try {
        const names = await register(server, label.replace(/\W+/g, '').toLowerCase());
        const full = await logins(server, names);
        rows.push(
          `| keyward, ${label}: full logins (8 clients, minimal Argon2id) | ${full.perSecond.toFixed(0)} logins/s | | | ${full.failed} of ${names.length} registered users failed to log in | |`,
        );
        if (label === 'SQLite') {
          // keyward and the serenity engine side by side, the same load in alternating rounds.
          const anchor = await start(['--import', 'tsx', join(root, 'bench/serenity-app.ts')]);
          try {
            const anchorNames = await register(anchor, 'serenity');
            const result = await interleaved(
              ROUNDS,
              () => loginStart(server, names, 'keyward', ROUND_SECONDS),
              () => loginStart(anchor, anchorNames, 'serenity', ROUND_SECONDS),
              (k, a) => k.rps / a.rps,
            );
            comparison = { ratio: result.ratio, keyward: result.a, serenity: result.b };
          } finally {
            anchor.stop();
          }
        } else {
          row(`keyward, ${label}: POST /login/start`, await loginStart(server, names, 'keyward'));
        }
        row(`keyward, ${label}: signed POST /api/transfer`, await signedRequests(server));
      } finally {
        server.stop();
      }
    }
  } finally {
    await services.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`\n| load (${SECONDS} s, 10 connections, loopback) | requests/s | p50 | p99 | errors | note |`);
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  for (const line of rows) console.log(line);
  if (comparison !== undefined) {
    const median = (loads: Load[], pick: (l: Load) => number) => spread(loads.map(pick)).median;
    const errors = (loads: Load[]) => loads.reduce((n, l) => n + l.errors, 0);
    console.log(
      `\n| POST /login/start, SQLite (${ROUNDS} alternating rounds of ${ROUND_SECONDS} s each, 10 connections) | requests/s (median) | p50 (median) | p99 (median) | errors |`,
    );
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [name, loads] of [
      ['keyward', comparison.keyward],
      ['@serenity-kit/opaque engine', comparison.serenity],
    ] as const) {
      console.log(
        `| ${name} | ${median(loads, (l) => l.rps).toFixed(0)} | ${median(loads, (l) => l.p50).toFixed(1)} ms | ${median(loads, (l) => l.p99).toFixed(1)} ms | ${errors(loads)} |`,
      );
    }
    console.log(`\nlogin/start keyward ÷ serenity engine, per round: ${showSpread(comparison.ratio, 1)} (target ≥ 3×)`);
  }
  console.log(`\n${popLine}`);
  console.log(`\n${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${process.platform}-${process.arch}, \`npm run bench:server\``);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
