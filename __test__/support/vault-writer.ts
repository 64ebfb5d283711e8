/**
 * Child process for the crash test: commits one new tag per save, forever,
 * and reports each commit on stdout only after `save()` has returned.
 */
import { SecretKey, Vault } from '../../src/index';

async function main() {
  const [dir, keyHex] = process.argv.slice(2);
  const vault = await Vault.open(dir, SecretKey.from(Buffer.from(keyHex, 'hex')));
  let i = ((vault.get('last') as number | undefined) ?? -1) + 1;
  for (;;) {
    vault.set(`tag-${i}`, { i, payload: 'x'.repeat(i % 500) });
    vault.namespace('bytes').set(`b-${i}`, Buffer.alloc(64, i & 0xff));
    vault.set('last', i);
    await vault.save();
    process.stdout.write(`committed ${i}\n`);
    i++;
  }
}

void main();
