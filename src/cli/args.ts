/**
 * The command line of `keyward`: the commands, their options, and the parse
 * (`node:util` parseArgs, strict) that turns argv into one command's values.
 * Every mistake in the command line is a {@link UsageError} (exit code 2).
 */
import { parseArgs } from 'node:util';
import { KeywardError } from '../errors';
import { type Suite, suites } from '../opaque/types';

/** A command line that cannot be run as written: `keyward` exits with code 2. */
export class UsageError extends KeywardError {
  /** The command whose `--help` the message points at, if one was named. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message, 'ERR_INVALID_ARG_VALUE');
    this.command = command;
  }
}

type Option = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

const suite: Option = { type: 'string' };
const setupFile: Option = { type: 'string' };
const help: Option = { type: 'boolean', short: 'h' };

/** Each command's options; an option of another command is unknown to this one. */
export const commands = {
  'create-server-setup': { options: { suite, raw: { type: 'boolean' }, help }, positionals: 0 },
  'get-server-public-key': { options: { suite, 'setup-file': setupFile, help }, positionals: 1 },
  serve: {
    options: {
      data: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      postgres: { type: 'string' },
      redis: { type: 'string' },
      'limit-user': { type: 'string' },
      'limit-address': { type: 'string' },
      'limit-register-address': { type: 'string' },
      'limit-register-user': { type: 'string' },
      'no-registration': { type: 'boolean' },
      'cors-origin': { type: 'string', multiple: true },
      'setup-file': setupFile,
      'seal-key-file': { type: 'string' },
      suite,
      'log-level': { type: 'string' },
      'trust-proxy': { type: 'string' },
      help,
    },
    positionals: 0,
  },
  relay: {
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'tcp-port': { type: 'string' },
      path: { type: 'string' },
      db: { type: 'string' },
      postgres: { type: 'string' },
      'key-file': { type: 'string' },
      'keep-alive-ms': { type: 'string' },
      help,
    },
    positionals: 0,
  },
} satisfies Record<string, { options: Record<string, Option>; positionals: number }>;

export type Command = keyof typeof commands;
export type Values = Record<string, string | boolean | undefined>;

export const exitCodes = `exit codes: 0 done (serve, relay: stopped by SIGINT or SIGTERM), 1 the command failed
  (unreadable or invalid setup or key, port in use, store or fastify missing), 2 usage error`;

const setupForms = `A setup is base64url: keyward's form (create-server-setup) names its suite;
      the raw form (--raw, @serenity-kit/opaque's server.createSetup()) is read as --suite
      (default ${suites[0]})`;

const help_: Record<Command, string> = {
  'create-server-setup': `keyward create-server-setup [--suite NAME] [--raw]
      prints a new OPAQUE server setup (a secret) as base64url: keyward's form, naming the
      suite, or with --raw the bare opaque-ke bytes that @serenity-kit/opaque uses`,
  'get-server-public-key': `keyward get-server-public-key (<setup> | --setup-file FILE) [--suite NAME]
      prints the setup's public key (clients pin it). FILE - reads standard input; a setup on
      the command line may start with '-'.
      ${setupForms}`,
  serve: `keyward serve [--data DIR] [--host 127.0.0.1] [--port 8080] [--postgres URL --redis URL]
              [--setup-file FILE] [--seal-key-file FILE] [--suite NAME]
              [--limit-user N] [--limit-address N] [--limit-register-address N]
              [--limit-register-user N] [--no-registration] [--cors-origin ORIGIN]...
              [--log-level LEVEL] [--trust-proxy VALUE]
      the reference auth server: SQLite in DIR (./keyward-data by default), or, for several
      instances, PostgreSQL and Redis (also KEYWARD_POSTGRES_URL, KEYWARD_REDIS_URL).
      The OPAQUE server setup comes from --setup-file, else KEYWARD_SERVER_SETUP, else
      DIR/server-setup (created on first start); the sealing key from --seal-key-file, else
      KEYWARD_SEAL_KEY, else DIR/seal-key (likewise). Instances must share both. FILE -
      reads standard input (for one of the two).
      ${setupForms}.
      --limit-user N: failed logins of one user from one address before each further try
      waits (1 s, doubling, up to 15 minutes; 5 by default). --limit-address N: failed
      logins from one address, all users, per hour (100). --limit-register-address N and
      --limit-register-user N: registration starts per address and per username per hour
      (20 and 5). --no-registration: refuse registration (accounts made another way).
      --cors-origin ORIGIN (repeatable): browsers on ORIGIN may call the server, with the
      headers a signed request needs (needs @fastify/cors). --log-level: fatal, error, warn, info, debug, trace or
      silent (Fastify's logger, JSON on standard output; off by default). --trust-proxy: true,
      false (default), or the comma-separated addresses/CIDRs of the proxies in front
      (Fastify's trustProxy: the client address, used by --limit-address, and the protocol
      then come from their X-Forwarded-* headers)`,
  relay: `keyward relay [--port N] [--tcp-port N] [--host 127.0.0.1] [--path /]
              [--db FILE | --postgres URL] [--key-file FILE] [--keep-alive-ms N]
      the relay for end-to-end encrypted messages (docs/relay.md): WebSocket on --port (at
      --path), TCP on --tcp-port; at least one. Its state in SQLite (--db, ./keyward-relay.db
      by default) or, for several instances, PostgreSQL (--postgres, or KEYWARD_POSTGRES_URL
      when --db is not given). The relay's key comes from --key-file (./keyward-relay.key by
      default; created, mode 0600, if missing); its public key, which clients pin, is printed
      in base64url on start. Instances behind one address must share the key file.
      --keep-alive-ms N: ping idle WebSocket clients every N ms (30000; 0: never), below a
      reverse proxy's idle timeout (nginx's proxy_read_timeout is 60 s)`,
};

/** The help of one command, or of all. */
export function usage(command?: Command): string {
  const body = command ? help_[command] : Object.values(help_).join('\n  ');
  return `usage:\n  ${body}\n  keyward --version | --help | help [COMMAND]\n\nsuites: ${suites.join(', ')}\n${exitCodes}`;
}

export function isCommand(name: string | undefined): name is Command {
  return name !== undefined && Object.hasOwn(commands, name);
}

/**
 * Moves arguments that are not options behind `--`, unless they are the value
 * of the option before them: a base64url setup may itself start with `-` or
 * `--`, and parseArgs would read it as short or long options. Options are
 * `-h` and `--name[=value]` with a name of lowercase letters and dashes; no
 * setup (a hundred base64url characters or more) is one.
 */
function positionalDashes(args: string[], options: Record<string, Option>): string[] {
  const front: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    const name = /^--([^=]+)$/.exec(arg)?.[1];
    if (name !== undefined && options[name]?.type === 'string' && i + 1 < args.length) front.push(arg, args[++i]);
    else if (arg.startsWith('-') && arg !== '-' && arg !== '-h' && !/^--[a-z-]+(=|$)/.test(arg)) rest.push(arg);
    else front.push(arg);
  }
  return rest.length > 0 ? [...front, '--', ...rest] : front;
}

function ownerOf(option: string): string | undefined {
  return Object.keys(commands).find((c) => Object.hasOwn(commands[c as Command].options, option));
}

/** Parses the arguments after the command name. */
export function parseCommand(command: Command, args: string[]): { values: Values; positionals: string[] } {
  const { options, positionals: count } = commands[command];
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: positionalDashes(args, options), options, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (error) {
    const e = error as Error & { code?: string };
    if (!e.code?.startsWith('ERR_PARSE_ARGS')) throw error;
    const unknown = /^Unknown option '--([^']+)'/.exec(e.message)?.[1];
    const owner = unknown && ownerOf(unknown);
    const message = owner ? `--${unknown} is an option of ${owner}, not of ${command}` : e.message.split('\n')[0];
    throw new UsageError(message, command);
  }
  if (parsed.values.help) return parsed;
  if (parsed.positionals.length > count) {
    throw new UsageError(`${command} takes ${count === 0 ? 'no arguments' : `at most ${count} argument`}, got ${parsed.positionals.length}`, command);
  }
  return parsed;
}

/** `--suite`, checked against the suites keyward knows. */
export function suiteOption(values: Values, command: Command): Suite | undefined {
  const value = values.suite;
  if (value === undefined) return undefined;
  if (!(suites as readonly string[]).includes(value as string)) {
    throw new UsageError(`unknown suite ${JSON.stringify(value)}; expected one of ${suites.join(', ')}`, command);
  }
  return value as Suite;
}

/** A whole-number option in [min, max]. */
export function integerOption(values: Values, name: string, min: number, max: number, command: Command): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} takes a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`, command);
  }
  return Number(value);
}
