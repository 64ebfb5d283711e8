/**
 * Where the CLI's secrets (the OPAQUE server setup, the sealing key) come
 * from: a file or standard input (`-`), the environment, or a file in the data
 * directory created on first use. Never argv for `serve`: argv is visible to
 * every user of the machine (`ps`). Error messages name the source, never its
 * content.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBase64Url, encodeBase64Url } from '../bytes';
import { KeywardError } from '../errors';
import { ServerSetup } from '../opaque/objects';
import { type Suite, suites } from '../opaque/types';

/**
 * A setup in keyward's form (it names its suite) or raw (the bare opaque-ke
 * bytes of `@serenity-kit/opaque`'s `server.createSetup()`), read as `suite`
 * (default ristretto255_sha512). A keyward setup of another suite than an
 * explicit `suite` is refused rather than silently used.
 */
export function readSetup(text: string, suite: Suite | undefined): ServerSetup {
  const data = decodeBase64Url(text.trim());
  let setup: ServerSetup;
  try {
    setup = ServerSetup.deserialize(data);
  } catch (error) {
    if (suite === undefined && !(error instanceof KeywardError)) throw error;
    return ServerSetup.fromRaw(suite ?? suites[0], data);
  }
  if (suite !== undefined && setup.suite !== suite) {
    const actual = setup.suite;
    setup.dispose();
    throw new KeywardError(`the setup is for ${actual}, not --suite ${suite}`, 'ERR_INVALID_ARG_VALUE');
  }
  return setup;
}

/** The trimmed text of `path`, or of standard input for `-`. */
export function readSecretFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8').trim();
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'an error';
    throw new KeywardError(`cannot read the ${what} from ${path === '-' ? 'standard input' : path} (${code})`, 'ERR_CLI_READ');
  }
  if (text === '') throw new KeywardError(`the ${what} from ${path === '-' ? 'standard input' : path} is empty`, 'ERR_CLI_READ');
  return text;
}

/**
 * A secret's base64url text and where it came from: `file` if given, else the
 * environment variable `env` if set, else `dir/name`, written (mode 0600) from
 * `create()` on first use.
 */
export function secretText(
  what: string,
  sources: { file?: string; env: string; dir: string; name: string },
  create: () => Uint8Array,
): { text: string; source: string } {
  if (sources.file !== undefined) {
    return { text: readSecretFile(sources.file, what), source: sources.file === '-' ? 'standard input' : sources.file };
  }
  const env = process.env[sources.env]?.trim();
  if (env !== undefined && env !== '') return { text: env, source: sources.env };
  const path = join(sources.dir, sources.name);
  if (!existsSync(path)) writeFileSync(path, `${encodeBase64Url(create())}\n`, { mode: 0o600, flag: 'wx' });
  return { text: readSecretFile(path, what), source: path };
}

/** Runs `decode` on a secret, naming the secret and its source in any error (never its value). */
export function decodeSecret<T>(what: string, source: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof KeywardError)) throw error;
    throw new KeywardError(`the ${what} from ${source} is invalid: ${error.message}`, error.code);
  }
}
