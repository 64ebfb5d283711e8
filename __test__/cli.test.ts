import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as serenity from '@serenity-kit/opaque';
import test from 'ava';
import { main } from '../src/cli';
import { UsageError } from '../src/cli/args';
import { decodeBase64Url, encodeBase64Url, ServerSetup } from '../src/index';

function run(args: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(
    args,
    (line) => out.push(line),
    (line) => err.push(line),
  );
  if (typeof code !== 'number') throw new Error('only `serve` is asynchronous');
  return { code, out, err };
}

/** The CLI as a process: its exit code and output. */
function cli(args: string[], input = '') {
  const tsx = pathToFileURL(join(__dirname, '../node_modules/tsx/dist/loader.mjs')).href;
  const r = spawnSync(process.execPath, ['--import', tsx, join(__dirname, '../src/cli.ts'), ...args], { input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function usageError(t: import('ava').ExecutionContext, args: string[], message: RegExp) {
  const error = t.throws(() => run(args), { instanceOf: UsageError }) as UsageError;
  t.is(error.code, 'ERR_INVALID_ARG_VALUE');
  t.regex(error.message, message);
}

test('create-server-setup prints a setup that names its suite', (t) => {
  const { code, out } = run(['create-server-setup', '--suite', 'p521_sha512']);
  t.is(code, 0);
  const setup = ServerSetup.deserialize(decodeBase64Url(out[0]));
  t.is(setup.suite, 'p521_sha512');
  const key = run(['get-server-public-key', out[0]]);
  t.is(key.out[0], encodeBase64Url(setup.publicKey));
});

test('--raw setups are serenity setups, and get-server-public-key reads serenity setups', async (t) => {
  await serenity.ready;
  const { out } = run(['create-server-setup', '--raw']);
  t.is(run(['get-server-public-key', out[0]]).out[0], serenity.server.getPublicKey(out[0]));
  const theirs = serenity.server.createSetup();
  t.is(run(['get-server-public-key', theirs]).out[0], serenity.server.getPublicKey(theirs));
});

test('a setup whose base64url starts with "-" is a value, not an option', (t) => {
  const { out } = run(['create-server-setup']);
  const setup = ServerSetup.deserialize(decodeBase64Url(out[0]));
  // Rewrite the first character to '-' and back out: the parser must pass it through as the setup.
  const dashed = `-${out[0].slice(1)}`;
  if (dashed === out[0]) t.is(run(['get-server-public-key', dashed]).out[0], encodeBase64Url(setup.publicKey));
  else t.not((t.throws(() => run(['get-server-public-key', dashed])) as { code?: string }).code, 'ERR_INVALID_ARG_VALUE');
  t.is(run(['get-server-public-key', '--', out[0]]).out[0], encodeBase64Url(setup.publicKey));
});

test('bad input: unknown suite, unknown option, malformed setup, no command', (t) => {
  t.throws(() => run(['create-server-setup', '--suite', 'curve448']), { code: 'ERR_INVALID_ARG_VALUE' } as never);
  t.throws(() => run(['create-server-setup', '--bogus']), { code: 'ERR_INVALID_ARG_VALUE' } as never);
  t.throws(() => run(['get-server-public-key', 'AAAA']), { code: 'ERR_OPAQUE_SIZE' } as never);
  t.throws(() => run(['get-server-public-key', 'no+padding=']), { code: 'ERR_OPAQUE_SERIALIZATION' } as never);
  t.is(run([]).code, 2);
});

test('options take --opt=value and --opt value; a missing value is a usage error', (t) => {
  for (const args of [['--suite=p256_sha256'], ['--suite', 'p256_sha256']]) {
    const { out } = run(['create-server-setup', ...args]);
    t.is(ServerSetup.deserialize(decodeBase64Url(out[0])).suite, 'p256_sha256');
  }
  usageError(t, ['create-server-setup', '--suite'], /--suite <value>' argument missing/);
  usageError(t, ['get-server-public-key', '--suite', '--setup-file', 'x'], /--suite' argument is ambiguous/);
  usageError(t, ['create-server-setup', '--raw=yes'], /--raw' does not take an argument/);
  usageError(t, ['create-server-setup', '--suite', 'curve448'], /unknown suite "curve448"/);
});

test("another command's option, an unknown command, stray arguments are usage errors that say so", (t) => {
  usageError(t, ['create-server-setup', '--port', '80'], /^--port is an option of serve, not of create-server-setup$/);
  usageError(t, ['get-server-public-key', '--raw'], /^--raw is an option of create-server-setup, not of get-server-public-key$/);
  usageError(t, ['create-server-setup', '--bogus'], /Unknown option '--bogus'/);
  usageError(t, ['frobnicate'], /^unknown command "frobnicate"$/);
  usageError(t, ['--suite', 'x', 'create-server-setup'], /the command comes first/);
  usageError(t, ['create-server-setup', 'extra'], /takes no arguments, got 1/);
  usageError(t, ['get-server-public-key'], /takes one setup: an argument or --setup-file/);
  usageError(t, ['get-server-public-key', 'a', 'b'], /at most 1 argument, got 2/);
  usageError(t, ['help', 'frobnicate'], /^unknown command "frobnicate"$/);
});

test('--help per command, help COMMAND, --help, --version', (t) => {
  const serve = run(['serve', '--help']);
  t.is(serve.code, 0);
  t.regex(serve.out[0], /keyward serve .*--setup-file FILE/s);
  t.false(serve.out[0].includes('create-server-setup ['));
  t.regex(serve.out[0], /exit codes: 0 .* 1 .* 2 usage error/s);
  t.deepEqual(run(['help', 'serve']).out, serve.out);
  t.deepEqual(run(['serve', '-h']).out, serve.out);
  const all = run(['--help']).out[0];
  for (const command of ['create-server-setup', 'get-server-public-key', 'serve']) t.true(all.includes(`keyward ${command} `));
  const { version } = JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')) as { version: string };
  t.deepEqual(run(['--version']).out, [version]);
  const none = run([]);
  t.is(none.code, 2);
  t.deepEqual(none.out, []);
  t.regex(none.err[0], /^usage:/);
});

test('get-server-public-key reads the setup from --setup-file FILE or - (standard input)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const setup = ServerSetup.generate('p384_sha384');
  const file = join(dir, 'setup');
  writeFileSync(file, `${encodeBase64Url(setup.serialize())}\n`);
  t.deepEqual(run(['get-server-public-key', `--setup-file=${file}`]).out, [encodeBase64Url(setup.publicKey)]);
  const raw = encodeBase64Url(setup.serializeRaw());
  const piped = cli(['get-server-public-key', '--setup-file', '-', '--suite', 'p384_sha384'], `${raw}\n`);
  t.is(piped.code, 0, piped.stderr);
  t.is(piped.stdout, `${encodeBase64Url(setup.publicKey)}\n`);
  usageError(t, ['get-server-public-key', raw, '--setup-file', file], /takes one setup/);
});

test('exit codes: 0 done, 1 the command failed, 2 usage error (with a pointer to --help)', (t) => {
  t.is(cli(['--version']).code, 0);
  const failed = cli(['get-server-public-key', 'AAAA']);
  t.is(failed.code, 1);
  t.regex(failed.stderr, /^keyward: .*\(ERR_OPAQUE_SIZE\)\n$/);
  const usage = cli(['create-server-setup', '--port', '1']);
  t.is(usage.code, 2);
  t.is(
    usage.stderr,
    "keyward: --port is an option of serve, not of create-server-setup (ERR_INVALID_ARG_VALUE)\nrun 'keyward create-server-setup --help' for usage\n",
  );
  t.is(cli(['frobnicate']).code, 2);
  t.is(cli([]).code, 2);
});

test('a setup that really starts with "-" is read as the setup, before or after options', (t) => {
  // About one setup in 64 starts with '-': generate until one does (the loop ends long before its bound).
  let setup: ServerSetup | undefined;
  for (let i = 0; i < 5000 && setup === undefined; i++) {
    const candidate = ServerSetup.generate('p256_sha256');
    if (/^-[^-]/.test(encodeBase64Url(candidate.serializeRaw()))) setup = candidate;
    else candidate.dispose();
  }
  if (setup === undefined) throw new Error('no setup starting with "-" in 5000');
  const raw = encodeBase64Url(setup.serializeRaw());
  const key = encodeBase64Url(setup.publicKey);
  t.deepEqual(run(['get-server-public-key', raw, '--suite', 'p256_sha256']).out, [key]);
  t.deepEqual(run(['get-server-public-key', '--suite', 'p256_sha256', raw]).out, [key]);
  t.deepEqual(run(['get-server-public-key', '--suite=p256_sha256', '--', raw]).out, [key]);
});

test('a setup that starts with "--" is a setup too, not an unknown option', (t) => {
  let setup: ServerSetup | undefined;
  // One setup in 4096 starts with '--'; rewriting is not possible (the bytes must stay a valid setup).
  for (let i = 0; i < 100_000 && setup === undefined; i++) {
    const candidate = ServerSetup.generate('p256_sha256');
    if (encodeBase64Url(candidate.serializeRaw()).startsWith('--')) setup = candidate;
    else candidate.dispose();
  }
  if (setup === undefined) throw new Error('no setup starting with "--" in 100000');
  const raw = encodeBase64Url(setup.serializeRaw());
  t.deepEqual(run(['get-server-public-key', raw, '--suite', 'p256_sha256']).out, [encodeBase64Url(setup.publicKey)]);
});
