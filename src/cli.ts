#!/usr/bin/env node
/**
 * `keyward create-server-setup [--suite NAME] [--raw]`
 * `keyward get-server-public-key <setup> [--suite NAME]`
 * `keyward serve [--data DIR] [--host H] [--port P]`
 *
 * Setups are printed as base64url. Without `--raw` they carry keyward's
 * header naming the suite; with `--raw` they are the bare opaque-ke bytes that
 * `@serenity-kit/opaque` uses. `get-server-public-key` reads either form (a
 * bare setup is read as `--suite`, default ristretto255_sha512).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgRedisStore } from './auth/pg-redis-store';
import { SqliteStore } from './auth/sqlite-store';
import { decodeBase64Url, encodeBase64Url } from './bytes';
import { KeywardError } from './errors';
import { ServerSetup } from './opaque/objects';
import { suiteArg } from './opaque/params';
import { suites } from './opaque/types';
import { SecretKey } from './seal/key';
import { startReferenceServer } from './server/reference';

const usage = `usage:
  keyward create-server-setup [--suite NAME] [--raw]
  keyward get-server-public-key <setup> [--suite NAME]
  keyward serve [--data DIR] [--host 127.0.0.1] [--port 8080] [--postgres URL --redis URL]
                [--limit-user N] [--limit-address N]
      the reference auth server: SQLite in DIR (./keyward-data by default), or, for several
      instances, PostgreSQL and Redis (also KEYWARD_POSTGRES_URL, KEYWARD_REDIS_URL). The
      OPAQUE server setup and the sealing key come from KEYWARD_SERVER_SETUP and
      KEYWARD_SEAL_KEY (base64url; instances must share them) or from files in DIR,
      created on first start. Login attempts per user and per client address are limited
      to N in 15 minutes (10 and 100 by default)

suites: ${suites.join(', ')}`;

interface Parsed {
  command?: string;
  positional: string[];
  suite?: string;
  raw: boolean;
  data?: string;
  host?: string;
  port?: number;
  postgres?: string;
  redis?: string;
  limitUser?: number;
  limitAddress?: number;
}

function parse(argv: string[]): Parsed {
  const parsed: Parsed = { positional: [], raw: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--suite') parsed.suite = argv[++i];
    else if (arg.startsWith('--suite=')) parsed.suite = arg.slice('--suite='.length);
    else if (arg === '--raw') parsed.raw = true;
    else if (arg === '--data') parsed.data = argv[++i];
    else if (arg === '--host') parsed.host = argv[++i];
    else if (arg === '--port') parsed.port = Number(argv[++i]);
    else if (arg === '--postgres') parsed.postgres = argv[++i];
    else if (arg === '--redis') parsed.redis = argv[++i];
    else if (arg === '--limit-user') parsed.limitUser = Number(argv[++i]);
    else if (arg === '--limit-address') parsed.limitAddress = Number(argv[++i]);
    else if (arg === '--help' || arg === '-h') parsed.command = 'help';
    else if (arg === '--') parsed.positional.push(...argv.splice(i + 1));
    // Only `--name` is an option: a base64url setup may itself start with `-`.
    else if (arg.startsWith('--')) throw new KeywardError(`unknown option ${arg}`, 'ERR_INVALID_ARG_VALUE');
    else if (parsed.command === undefined) parsed.command = arg;
    else parsed.positional.push(arg);
  }
  return parsed;
}

function readSetup(text: string, suite: string | undefined): ServerSetup {
  const data = decodeBase64Url(text.trim());
  try {
    return ServerSetup.deserialize(data);
  } catch (error) {
    if (suite === undefined && !(error instanceof KeywardError)) throw error;
    return ServerSetup.fromRaw(suiteArg(suite), data);
  }
}

/** A secret from the environment, or from a file in `dir` (created, mode 0600, on first use). */
function secretFrom(env: string | undefined, dir: string, file: string, create: () => Uint8Array): Uint8Array {
  if (env !== undefined && env !== '') return decodeBase64Url(env.trim());
  const path = join(dir, file);
  if (!existsSync(path)) writeFileSync(path, `${encodeBase64Url(create())}\n`, { mode: 0o600, flag: 'wx' });
  return decodeBase64Url(readFileSync(path, 'utf8').trim());
}

async function serve(args: Parsed, out: (line: string) => void): Promise<void> {
  const dir = args.data ?? 'keyward-data';
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const serverSetup = ServerSetup.deserialize(
    secretFrom(process.env.KEYWARD_SERVER_SETUP, dir, 'server-setup', () => ServerSetup.generate().serialize()),
  );
  const sealKey = SecretKey.from(secretFrom(process.env.KEYWARD_SEAL_KEY, dir, 'seal-key', () => SecretKey.generate().exportBytes()));
  const postgres = args.postgres ?? process.env.KEYWARD_POSTGRES_URL;
  const redis = args.redis ?? process.env.KEYWARD_REDIS_URL;
  if ((postgres === undefined) !== (redis === undefined)) {
    throw new KeywardError('--postgres and --redis go together', 'ERR_INVALID_ARG_VALUE');
  }
  const store = postgres !== undefined ? new PgRedisStore({ postgres, redis: redis! }) : new SqliteStore(join(dir, 'auth.db'));
  const rateLimit = { perUser: args.limitUser, perAddress: args.limitAddress };
  for (const [name, value] of Object.entries(rateLimit)) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new KeywardError(`--limit-${name === 'perUser' ? 'user' : 'address'} takes a whole number > 0`, 'ERR_INVALID_ARG_VALUE');
  }
  const { url, close } = await startReferenceServer({
    serverSetup,
    sealKey,
    store,
    host: args.host,
    port: args.port ?? 8080,
    rateLimit: Object.fromEntries(Object.entries(rateLimit).filter(([, v]) => v !== undefined)),
  });
  out(`keyward: listening on ${url} (server public key ${encodeBase64Url(serverSetup.publicKey)})`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void close());
}

export function main(argv: string[], out: (line: string) => void = console.log): number | Promise<number> {
  const args = parse(argv);
  switch (args.command) {
    case 'create-server-setup': {
      const setup = ServerSetup.generate(suiteArg(args.suite));
      out(encodeBase64Url(args.raw ? setup.serializeRaw() : setup.serialize()));
      setup.dispose();
      return 0;
    }
    case 'get-server-public-key': {
      if (args.positional.length !== 1) throw new KeywardError('get-server-public-key takes one setup', 'ERR_INVALID_ARG_VALUE');
      const setup = readSetup(args.positional[0], args.suite);
      out(encodeBase64Url(setup.publicKey));
      setup.dispose();
      return 0;
    }
    case 'serve':
      return serve(args, out).then(() => 0);
    case 'help':
      out(usage);
      return 0;
    default:
      out(usage);
      return 2;
  }
}

function fail(error: unknown) {
  const e = error as Error & { code?: string };
  console.error(`keyward: ${e.message}${e.code ? ` (${e.code})` : ''}`);
  process.exitCode = 1;
}

if (require.main === module) {
  try {
    const result = main(process.argv.slice(2));
    if (typeof result === 'number') process.exitCode = result;
    else result.then((code) => (process.exitCode = code), fail);
  } catch (error) {
    fail(error);
  }
}
