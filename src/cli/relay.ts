/**
 * `keyward relay`: the relay server (docs/relay.md "Server") until SIGINT
 * or SIGTERM, on SQLite or PostgreSQL. As with `serve`, the command line is
 * checked whole before anything is opened, and once the store is open it is
 * closed on every way out (a signal, a port in use, a failure to start).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { decodeBase64Url, encodeBase64Url } from '../bytes';
import { KeywardError } from '../errors';
import { RelayKey } from '../relay/key';
import { PgRelayStore } from '../relay/pg-store';
import { createRelayServer, type RelayListenOptions } from '../relay/server';
import { SqliteRelayStore } from '../relay/sqlite-store';
import type { RelayStore } from '../relay/store';
import { RELAY_STORE_DEFAULTS } from '../relay/wire';
import { integerOption, UsageError, type Values } from './args';
import { decodeSecret, readSecretFile } from './secrets';
import { stopSignal } from './serve';

/** The options of `relay`, checked; throws {@link UsageError} for any mistake. */
function options(values: Values) {
  const str = (name: string) => values[name] as string | undefined;
  const usage = (message: string) => new UsageError(message, 'relay');
  const db = str('db');
  const postgres = str('postgres') ?? (db === undefined ? process.env.KEYWARD_POSTGRES_URL || undefined : undefined);
  if (db !== undefined && str('postgres') !== undefined) throw usage('--db and --postgres are two stores: give one');
  if (db === '') throw usage('--db takes a file path');
  const port = integerOption(values, 'port', 0, 65535, 'relay');
  const tcpPort = integerOption(values, 'tcp-port', 0, 65535, 'relay');
  if (port === undefined && tcpPort === undefined) throw usage('give --port (WebSocket), --tcp-port (TCP), or both');
  const keyFile = str('key-file') ?? 'keyward-relay.key';
  if (keyFile === '' || keyFile === '-') throw usage('--key-file takes a file path (created, mode 0600, if missing)');
  const keepAliveMs = integerOption(values, 'keep-alive-ms', 0, 2 ** 31 - 1, 'relay');
  return {
    keepAliveMs,
    host: str('host') ?? '127.0.0.1',
    port,
    tcpPort,
    path: str('path') ?? '/',
    postgres,
    sqlite: db ?? 'keyward-relay.db',
    keyFile,
  };
}

/** The relay key from `path`, made (a new random key, base64url, mode 0600) if the file does not exist. */
function relayKey(path: string): RelayKey {
  if (!existsSync(path)) {
    const key = RelayKey.generate();
    try {
      writeFileSync(path, `${encodeBase64Url(key.exportBytes())}\n`, { mode: 0o600, flag: 'wx' });
    } finally {
      key.dispose();
    }
  }
  const text = readSecretFile(path, 'relay key');
  return decodeSecret('relay key', path, () => RelayKey.fromBytes(decodeBase64Url(text)));
}

/** Runs the relay; resolves with exit code 0 once a signal stopped it and the store is closed. */
export async function relay(values: Values, out: (line: string) => void): Promise<number> {
  const o = options(values);
  if (!o.path.startsWith('/')) throw new UsageError('--path must start with /', 'relay');
  const key = relayKey(o.keyFile);
  const signal = stopSignal();
  let store: RelayStore | undefined;
  try {
    store =
      o.postgres !== undefined
        ? new PgRelayStore({ postgres: o.postgres, limits: RELAY_STORE_DEFAULTS })
        : new SqliteRelayStore(o.sqlite, { limits: RELAY_STORE_DEFAULTS });
    const server = createRelayServer({ key, store, keepAliveMs: o.keepAliveMs });
    const listen: RelayListenOptions = {};
    if (o.port !== undefined) listen.websocket = { port: o.port, host: o.host, path: o.path };
    if (o.tcpPort !== undefined) listen.tcp = { port: o.tcpPort, host: o.host };
    let addresses: Awaited<ReturnType<typeof server.listen>>;
    try {
      addresses = await server.listen(listen);
    } catch (error) {
      await server.close();
      const e = error as { code?: string; port?: number };
      if (e.code === 'EADDRINUSE') throw new KeywardError(`port ${e.port ?? '?'} on ${o.host} is in use`, 'ERR_ADDRESS_IN_USE');
      throw error;
    }
    const where = [addresses.websocket?.url, addresses.tcp && `tcp://${addresses.tcp.host}:${addresses.tcp.port}`].filter(Boolean).join(' and ');
    out(`keyward: relay listening on ${where} (relay public key ${encodeBase64Url(key.publicKey)})`);
    await signal.stopped;
    await server.close();
    return 0;
  } finally {
    signal.dispose();
    await store?.close();
    key.dispose();
  }
}
