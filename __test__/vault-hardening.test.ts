/**
 * Issue 13, findings 3 and 4, through the public API: the vault touches only
 * its own files, and a single entry cannot be rolled back. (Finding 2, a
 * failure at each file step of a commit, is covered by the failpoint loop in
 * crates/seal/src/vault/tests.rs.)
 */

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { DecryptionError, SecretKey, Vault, VaultIntegrityError } from '../src/index';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-vault-hardening-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const unrelated: Record<string, string> = {
  'notes.tmp': 'my notes',
  'backup.pack': "someone else's pack",
  'manifest.tmp': "not the vault's either",
};

function assertUnrelatedIntact(t: { is(a: unknown, b: unknown, m?: string): void }, dir: string, when: string) {
  for (const [name, text] of Object.entries(unrelated)) t.is(readFileSync(join(dir, name), 'utf8'), text, `${name} after ${when}`);
}

test('files the vault did not create survive open, save, compaction, rekey and destroy', async (t) => {
  const dir = join(tempDir(t), 'v');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(unrelated)) writeFileSync(join(dir, name), text);
  const vault = await Vault.open(dir, SecretKey.generate());
  assertUnrelatedIntact(t, dir, 'open');
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 4; i++) vault.set(`t${i}`, `${round}${'x'.repeat(4000)}`);
    await vault.save();
    assertUnrelatedIntact(t, dir, `save ${round}`);
  }
  await vault.rekey(SecretKey.generate());
  assertUnrelatedIntact(t, dir, 'rekey');
  vault.destroy();
  assertUnrelatedIntact(t, dir, 'destroy');
  t.deepEqual(readdirSync(dir).sort(), Object.keys(unrelated).sort());
});

test('an older record put back in place is refused, never read', async (t) => {
  const dir = tempDir(t);
  const key = SecretKey.generate();
  const vault = await Vault.open(dir, key);
  vault.set('balance', '0000100');
  await vault.save();
  const packs = () => readdirSync(dir).filter((n) => n.endsWith('.pack'));
  t.is(packs().length, 1);
  const old = readFileSync(join(dir, packs()[0]));
  vault.set('balance', '0000001');
  await vault.save();
  vault.close();
  t.is(packs().length, 1);
  const current = join(dir, packs()[0]);
  t.is(readFileSync(current).length, old.length);
  writeFileSync(current, old);

  const reopened = await Vault.open(dir, key);
  const error = t.throws(() => reopened.get('balance'), { instanceOf: VaultIntegrityError });
  t.is(error?.code, 'ERR_VAULT_INTEGRITY');
  t.true(error instanceof DecryptionError);
  reopened.close();
});
