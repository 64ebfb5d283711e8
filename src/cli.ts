#!/usr/bin/env node
/**
 * `keyward`: create-server-setup, get-server-public-key, serve, relay (see
 * `keyward --help`, or `usage()` in cli/args.ts). Exit codes: 0 done, 1 the
 * command failed, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBase64Url } from './bytes';
import { isCommand, parseCommand, suiteOption, UsageError, usage } from './cli/args';
import { relay } from './cli/relay';
import { readSecretFile, readSetup } from './cli/secrets';
import { serve } from './cli/serve';
import { ServerSetup } from './opaque/objects';

/** keyward's version, from the package.json one level above src/ and dist/ alike. */
function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Runs one command line (argv without `node` and the script). Returns the
 * exit code (a Promise for `serve` and `relay`, settled when it stops); throws
 * {@link UsageError} for a command line that is wrong (exit code 2) and other
 * errors for a command that failed (exit code 1).
 */
export function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): number | Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version') {
    if (rest.length > 0) throw new UsageError('--version takes no arguments');
    out(version());
    return 0;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    if (topic !== undefined && !isCommand(topic)) throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
    out(usage(topic));
    return 0;
  }
  if (command === undefined) {
    err(usage());
    return 2;
  }
  if (!isCommand(command)) {
    throw new UsageError(command.startsWith('-') ? `the command comes first, before ${command}` : `unknown command ${JSON.stringify(command)}`);
  }
  const { values, positionals } = parseCommand(command, rest);
  if (values.help) {
    out(usage(command));
    return 0;
  }
  switch (command) {
    case 'create-server-setup': {
      const setup = ServerSetup.generate(suiteOption(values, command));
      out(encodeBase64Url(values.raw ? setup.serializeRaw() : setup.serialize()));
      setup.dispose();
      return 0;
    }
    case 'get-server-public-key': {
      const file = values['setup-file'] as string | undefined;
      if ((file === undefined) === (positionals.length === 0)) {
        throw new UsageError('get-server-public-key takes one setup: an argument or --setup-file', command);
      }
      const setup = readSetup(file !== undefined ? readSecretFile(file, 'server setup') : positionals[0], suiteOption(values, command));
      out(encodeBase64Url(setup.publicKey));
      setup.dispose();
      return 0;
    }
    case 'serve':
      return serve(values, out);
    case 'relay':
      return relay(values, out);
  }
}

/** Prints an error the way the exit code classes it; never the value of a secret argument. */
function report(error: unknown): number {
  const e = error as Error & { code?: string };
  console.error(`keyward: ${e.message}${e.code ? ` (${e.code})` : ''}`);
  if (error instanceof UsageError) {
    console.error(`run 'keyward ${error.command ? `${error.command} ` : ''}--help' for usage`);
    return 2;
  }
  return 1;
}

if (require.main === module) {
  try {
    const result = main(process.argv.slice(2));
    if (typeof result === 'number') process.exitCode = result;
    else
      result.then(
        (code) => (process.exitCode = code),
        (error) => (process.exitCode = report(error)),
      );
  } catch (error) {
    process.exitCode = report(error);
  }
}
