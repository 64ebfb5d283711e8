/**
 * `keyward serve`: the reference auth server until SIGINT or SIGTERM. The
 * command line is checked whole before anything is opened, and once the store
 * is open it is closed on every way out (a signal, a port in use, a failure
 * to start): a store left open can leave its lock behind for the next start.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PgRedisStore } from '../auth/pg-redis-store';
import { SqliteStore } from '../auth/sqlite-store';
import type { AuthStore } from '../auth/store';
import { decodeBase64Url, encodeBase64Url } from '../bytes';
import { KeywardError } from '../errors';
import { corsOriginsArg } from '../http/cors';
import { ServerSetup } from '../opaque/objects';
import { SecretKey } from '../seal/key';
import { type LogLevel, loadCors, loadFastify, logLevels, startReferenceServer } from '../server/reference';
import { integerOption, suiteOption, UsageError, type Values } from './args';
import { decodeSecret, readSetup, secretText } from './secrets';
import { parseTrustProxy, type TrustProxy } from './trust-proxy';

/** The options of `serve`, checked; throws {@link UsageError} for any mistake. */
function options(values: Values) {
  const str = (name: string) => values[name] as string | undefined;
  const usage = (message: string) => new UsageError(message, 'serve');
  const logLevel = str('log-level');
  if (logLevel !== undefined && !logLevels.includes(logLevel as LogLevel)) {
    throw usage(`--log-level takes one of ${logLevels.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }
  const trust = str('trust-proxy');
  let trustProxy: TrustProxy | undefined;
  try {
    trustProxy = trust === undefined ? undefined : parseTrustProxy(trust);
  } catch (error) {
    throw usage((error as Error).message);
  }
  if (str('setup-file') === '-' && str('seal-key-file') === '-') {
    throw usage('--setup-file and --seal-key-file cannot both read standard input');
  }
  const postgres = str('postgres') ?? process.env.KEYWARD_POSTGRES_URL;
  const redis = str('redis') ?? process.env.KEYWARD_REDIS_URL;
  if ((postgres === undefined) !== (redis === undefined)) {
    throw usage('--postgres and --redis (or KEYWARD_POSTGRES_URL and KEYWARD_REDIS_URL) go together');
  }
  const limit = (name: string) => integerOption(values, name, 1, Number.MAX_SAFE_INTEGER, 'serve');
  const rateLimit = {
    perUser: limit('limit-user'),
    perAddress: limit('limit-address'),
    registerPerAddress: limit('limit-register-address'),
    registerPerUser: limit('limit-register-user'),
  };
  const corsOrigins = (values['cors-origin'] as unknown as string[] | undefined) ?? [];
  for (const origin of corsOrigins) {
    try {
      corsOriginsArg([origin], '--cors-origin');
    } catch {
      throw usage(`--cors-origin takes an origin such as https://app.example (scheme, host, optional port), got ${JSON.stringify(origin)}`);
    }
  }
  return {
    dir: str('data') ?? 'keyward-data',
    host: str('host'),
    port: integerOption(values, 'port', 0, 65535, 'serve') ?? 8080,
    suite: suiteOption(values, 'serve'),
    setupFile: str('setup-file'),
    sealKeyFile: str('seal-key-file'),
    db: postgres !== undefined && redis !== undefined ? { postgres, redis } : undefined,
    rateLimit: Object.fromEntries(Object.entries(rateLimit).filter(([, v]) => v !== undefined)),
    allowRegistration: values['no-registration'] !== true,
    corsOrigins,
    logLevel: logLevel as LogLevel | undefined,
    trustProxy,
  };
}

/** Resolves on the first SIGINT or SIGTERM; `dispose()` removes the handlers (`serve` and `relay`). */
export function stopSignal(): { stopped: Promise<NodeJS.Signals>; dispose: () => void } {
  let handler!: (signal: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((resolve) => (handler = resolve));
  const signals = ['SIGINT', 'SIGTERM'] as const;
  for (const s of signals) process.on(s, handler);
  return {
    stopped,
    dispose: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}

/** Runs the server; resolves with exit code 0 once a signal stopped it and the store is closed. */
export async function serve(values: Values, out: (line: string) => void): Promise<number> {
  const o = options(values);
  await loadFastify(); // a missing peer is reported before anything is opened or created
  if (o.corsOrigins.length > 0) await loadCors();
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const setupText = secretText('server setup', { file: o.setupFile, env: 'KEYWARD_SERVER_SETUP', dir: o.dir, name: 'server-setup' }, () =>
    ServerSetup.generate(o.suite).serialize(),
  );
  const serverSetup = decodeSecret('server setup', setupText.source, () => readSetup(setupText.text, o.suite));
  const keyText = secretText('seal key', { file: o.sealKeyFile, env: 'KEYWARD_SEAL_KEY', dir: o.dir, name: 'seal-key' }, () =>
    SecretKey.generate().exportBytes(),
  );
  const sealKey = decodeSecret('seal key', keyText.source, () => SecretKey.from(decodeBase64Url(keyText.text)));

  // From here a signal no longer kills the process at once: it stops the server, which closes the store.
  const signal = stopSignal();
  try {
    const store: AuthStore = o.db ? new PgRedisStore(o.db) : new SqliteStore(join(o.dir, 'auth.db'));
    // startReferenceServer owns the store: it closes it if it fails to start.
    const server = await startReferenceServer({
      serverSetup,
      sealKey,
      store,
      host: o.host,
      port: o.port,
      rateLimit: o.rateLimit,
      allowRegistration: o.allowRegistration,
      corsOrigins: o.corsOrigins,
      logLevel: o.logLevel,
      trustProxy: o.trustProxy,
    }).catch((error: Error & { code?: string }) => {
      if (error.code === 'EADDRINUSE') throw new KeywardError(`port ${o.port} on ${o.host ?? '127.0.0.1'} is in use`, 'ERR_ADDRESS_IN_USE');
      throw error;
    });
    out(`keyward: listening on ${server.url} (server public key ${encodeBase64Url(serverSetup.publicKey)})`);
    await signal.stopped;
    await server.close();
    return 0;
  } finally {
    signal.dispose();
  }
}
