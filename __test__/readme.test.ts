/**
 * The README's and docs/web.md's TypeScript examples run as written: each block that imports
 * from 'keyward' is saved inside the package (so the import resolves to this
 * package by self-reference) and run in a scratch directory.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';

const root = join(__dirname, '..');
// Resolved here: the examples run in a scratch directory, where a bare 'tsx' would not resolve.
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
// The README's examples and the web guide's (docs/web.md; its page runs in __test__/web-browser.test.ts).
const blocks = ['README.md', 'docs/web.md'].flatMap((doc) =>
  [...readFileSync(join(root, doc), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).filter((code) => /from 'keyward'/.test(code)),
);

test('the README has runnable examples', (t) => {
  t.true(blocks.length >= 2);
});

blocks.forEach((code, i) => {
  test(`README example ${i + 1} runs`, (t) => {
    const dir = join(root, '__test__', '.readme-examples');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `example-${i + 1}-${process.pid}.mts`);
    const cwd = mkdtempSync(join(tmpdir(), 'keyward-readme-'));
    t.teardown(() => {
      rmSync(file, { force: true });
      rmSync(cwd, { recursive: true, force: true });
    });
    writeFileSync(file, `${code}\nconsole.log('example ok');\n`);
    const out = execFileSync(process.execPath, ['--import', tsx, file], { cwd, encoding: 'utf8', env: { ...process.env, PEPPER: 'pepper' } });
    t.regex(out, /example ok/);
  });
});
