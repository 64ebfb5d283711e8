// After tsc: (1) points dist/cjs/native.d.ts at the addon's typings, which
// sit one level further up from dist/cjs than from src; (2) writes dist/esm/*.mjs: each re-exports the CommonJS build by name. One
// implementation behind both `require` and `import` means one copy of every
// class, so `instanceof` and the native objects agree whichever way a
// module was loaded (no dual-package hazard).
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const nativeDts = join(root, 'dist/cjs/native.d.ts');
writeFileSync(nativeDts, readFileSync(nativeDts, 'utf8').replaceAll("'../native/binding'", "'../../native/binding'"));

const entries = ['index', 'serenity/index', 'serenity/p256', 'cli'];

for (const entry of entries) {
  const cjs = join(root, 'dist/cjs', `${entry}.js`);
  const out = join(root, 'dist/esm', `${entry}.mjs`);
  const names = Object.keys(require(cjs)).filter((n) => n !== 'default' && n !== '__esModule');
  const from = relative(dirname(out), cjs);
  const lines = [
    `import cjs from '${from.startsWith('.') ? from : `./${from}`}';`,
    ...names.map((n) => `export const ${n} = cjs.${n};`),
    'export default cjs;',
    '',
  ];
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, lines.join('\n'));
}
console.log(`[esm] wrote ${entries.length} ESM entry points`);
