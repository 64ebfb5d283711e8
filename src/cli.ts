#!/usr/bin/env node
/**
 * `keyward create-server-setup [--suite NAME] [--raw]`
 * `keyward get-server-public-key <setup> [--suite NAME]`
 *
 * Setups are printed as base64url. Without `--raw` they carry keyward's
 * header naming the suite; with `--raw` they are the bare opaque-ke bytes that
 * `@serenity-kit/opaque` uses. `get-server-public-key` reads either form (a
 * bare setup is read as `--suite`, default ristretto255_sha512).
 */
import { decodeBase64Url, encodeBase64Url } from './bytes';
import { KeywardError } from './errors';
import { ServerSetup } from './opaque/objects';
import { suiteArg } from './opaque/params';
import { suites } from './opaque/types';

const usage = `usage:
  keyward create-server-setup [--suite NAME] [--raw]
  keyward get-server-public-key <setup> [--suite NAME]

suites: ${suites.join(', ')}`;

interface Parsed {
  command?: string;
  positional: string[];
  suite?: string;
  raw: boolean;
}

function parse(argv: string[]): Parsed {
  const parsed: Parsed = { positional: [], raw: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--suite') parsed.suite = argv[++i];
    else if (arg.startsWith('--suite=')) parsed.suite = arg.slice('--suite='.length);
    else if (arg === '--raw') parsed.raw = true;
    else if (arg === '--help' || arg === '-h') parsed.command = 'help';
    else if (arg.startsWith('-')) throw new KeywardError(`unknown option ${arg}`, 'ERR_INVALID_ARG_VALUE');
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

export function main(argv: string[], out: (line: string) => void = console.log): number {
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
    case 'help':
      out(usage);
      return 0;
    default:
      out(usage);
      return 2;
  }
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    const e = error as Error & { code?: string };
    console.error(`keyward: ${e.message}${e.code ? ` (${e.code})` : ''}`);
    process.exitCode = 1;
  }
}
