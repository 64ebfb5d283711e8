import test from 'ava';
import { main } from '../src/cli';
import { ServerSetup, decodeBase64Url, encodeBase64Url } from '../src/index';
import * as serenity from '@serenity-kit/opaque';

function run(args: string[]): { code: number; out: string[] } {
  const out: string[] = [];
  const code = main(args, (line) => out.push(line));
  if (typeof code !== 'number') throw new Error('only `serve` is asynchronous');
  return { code, out };
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
