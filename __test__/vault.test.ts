import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { DecryptionError, InvalidArgumentError, SecretKey, StateError, Vault } from '../src/index';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-vault-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('values survive a reopen: bytes, JSON, namespaces, staging', async (t) => {
  const dir = tempDir(t);
  const key = SecretKey.generate();
  const vault = await Vault.open(dir, key);
  vault.set('alice', { role: 'admin', n: [1, 2] });
  vault.set('raw', new Uint8Array([1, 2, 3]));
  vault.namespace('users').set('alice', 'nested');
  vault.namespace('users').namespace('admins').set('alice', true);
  t.true(vault.hasChanges);
  await vault.save();
  t.false(vault.hasChanges);
  vault.set('staged', 1);
  t.is(vault.get('staged'), 1);
  vault.rollback();
  t.is(vault.get('staged'), undefined);
  t.true(vault.delete('alice'));
  t.false(vault.has('alice'));
  t.false(vault.delete('nobody'));
  vault.rollback();
  vault.close();
  t.throws(() => vault.get('alice'), { instanceOf: StateError });

  const again = Vault.openSync(dir, key);
  t.deepEqual(again.get('alice'), { role: 'admin', n: [1, 2] });
  t.deepEqual(again.get('raw'), new Uint8Array([1, 2, 3]));
  t.is(again.namespace('users').get('alice'), 'nested');
  t.is(again.namespace('users').namespace('admins').get('alice'), true);
  t.deepEqual(again.tags().sort(), ['alice', 'raw']);
  t.deepEqual(again.namespace('users').tags(), ['alice']);
  for (const name of readdirSync(dir)) t.false(/alice|users|admins|raw/.test(name), name);
  t.throws(() => again.set('bad', undefined as never), { instanceOf: InvalidArgumentError });
});

test('wrong key, tampered pack, rekey', async (t) => {
  const dir = tempDir(t);
  const key = SecretKey.generate();
  const vault = await Vault.open(dir, key);
  vault.set('secret', 'value');
  await vault.save();
  vault.close();
  await t.throwsAsync(Vault.open(dir, SecretKey.generate()), { instanceOf: DecryptionError });

  const reopened = await Vault.open(dir, key);
  const newKey = SecretKey.generate();
  reopened.set('added during rekey', 2);
  await reopened.rekey(newKey);
  reopened.close();
  await t.throwsAsync(Vault.open(dir, key), { instanceOf: DecryptionError });
  const rekeyed = await Vault.open(dir, newKey);
  t.is(rekeyed.get('secret'), 'value');
  t.is(rekeyed.get('added during rekey'), 2);
  rekeyed.close();

  const pack = readdirSync(dir).find((n) => n.endsWith('.pack'))!;
  const bytes = readFileSync(join(dir, pack));
  bytes[bytes.length - 3] ^= 1;
  writeFileSync(join(dir, pack), bytes);
  const tampered = await Vault.open(dir, newKey);
  const failures = ['secret', 'added during rekey'].filter((tag) => {
    try {
      tampered.get(tag);
      return false;
    } catch (error) {
      return error instanceof DecryptionError;
    }
  });
  t.is(failures.length, 1);
});

test('10 000 tags written and read back', async (t) => {
  const dir = tempDir(t);
  const key = SecretKey.generate();
  const vault = await Vault.open(dir, key);
  for (let i = 0; i < 10_000; i++) vault.set(`tag-${i}`, { i, text: `value ${i}` });
  await vault.save();
  vault.close();
  const again = await Vault.open(dir, key);
  t.is(again.tags().length, 10_000);
  for (let i = 0; i < 10_000; i++) {
    const value = again.get(`tag-${i}`) as { i: number; text: string };
    if (value.i !== i || value.text !== `value ${i}`) return t.fail(`tag-${i} read back as ${JSON.stringify(value)}`);
  }
  t.pass();
});

test('destroy removes the directory', async (t) => {
  const parent = tempDir(t);
  const dir = join(parent, 'v');
  const vault = await Vault.open(dir, SecretKey.generate());
  vault.set('a', 1);
  await vault.save();
  vault.destroy();
  t.deepEqual(readdirSync(parent), []);
  t.throws(() => vault.get('a'), { instanceOf: StateError });
});

/** Runs the writer until it has committed `atLeast` saves and `delayMs` more, then SIGKILLs it. */
function runAndKill(dir: string, keyHex: string, atLeast: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'support/vault-writer.ts'), dir, keyHex], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let last = -1;
    let killing = false;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) last = Number(line.split(' ')[1]);
      if (!killing && last >= atLeast) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(last) : reject(new Error(`writer exited: ${signal}`))));
  });
}

test('a writer killed with SIGKILL mid-save loses nothing it committed', async (t) => {
  const dir = tempDir(t);
  const key = SecretKey.generate();
  const keyHex = Buffer.from(key.exportBytes()).toString('hex');
  let committed = -1;
  for (const delay of [0, 3, 7, 13, 29]) {
    const reported = await runAndKill(dir, keyHex, committed + 20, delay);
    const vault = await Vault.open(dir, key);
    const last = vault.get('last') as number;
    t.true(last >= reported, `last ${last} < reported ${reported}`);
    for (let i = 0; i <= last; i++) {
      const value = vault.get(`tag-${i}`) as { i: number; payload: string };
      if (value?.i !== i || value.payload.length !== i % 500) return t.fail(`tag-${i} lost after kill`);
      const bytes = vault.namespace('bytes').get(`b-${i}`) as Uint8Array;
      if (bytes?.byteLength !== 64 || bytes[0] !== (i & 0xff)) return t.fail(`b-${i} lost after kill`);
    }
    t.is(vault.get(`tag-${last + 1}`), undefined);
    vault.close();
    committed = last;
    t.false(readdirSync(dir).some((n) => n.endsWith('.tmp')));
  }
});
