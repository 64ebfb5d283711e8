// After tsc: (1) points the emitted declarations at the addon's typings
// (tsc keeps the specifiers as written in src/, one level short for dist/cjs/); (2) writes dist/esm/*.mjs: each re-exports the CommonJS build by name. One
// implementation behind both `require` and `import` means one copy of every
// class, so `instanceof` and the native objects agree whichever way a
// module was loaded (no dual-package hazard).
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
function declarations(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? declarations(join(dir, e.name)) : e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}
for (const file of declarations(join(root, 'dist/cjs'))) {
  const target = relative(dirname(file), join(root, 'native/binding'));
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/(["'])(?:\.\.\/)+native\/binding\1/g, (_, q) => `${q}${target}${q}`);
  if (fixed !== text) writeFileSync(file, fixed);
}

const entries = ['index', 'serenity/index', 'serenity/p256', 'fastify/index', 'express/index', 'client/index', 'cli'];

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
