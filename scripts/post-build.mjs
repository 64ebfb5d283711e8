// After tsc (which writes the CommonJS build and its .d.ts to dist/cjs/):
// (1) points the emitted declarations at the addon's typings (tsc keeps the
//     specifiers as written in src/, one level short for dist/cjs/);
// (2) writes each ESM entry point, dist/esm/<entry>.mjs, re-exporting the
//     CommonJS build by name, with its own ESM typings, dist/esm/<entry>.d.mts.
// One implementation behind both `require` and `import` means one copy of every
// class, so `instanceof` and the native objects agree whichever way a module was
// loaded (no dual-package hazard); the .d.mts files tell TypeScript under
// node16/nodenext/bundler that the `import` entries are ES modules (without them
// the .d.ts of the CommonJS build would "masquerade" as the ESM entry's types).
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

// The entries of package.json "exports" (the CLI is CommonJS only: it is run, not imported).
const entries = ['index', 'serenity/index', 'serenity/p256', 'fastify/index', 'express/index', 'client/index'];

for (const entry of entries) {
  const cjs = join(root, 'dist/cjs', `${entry}.js`);
  const out = join(root, 'dist/esm', `${entry}.mjs`);
  const names = Object.keys(require(cjs)).filter((n) => n !== 'default' && n !== '__esModule');
  const rel = relative(dirname(out), cjs);
  const from = rel.startsWith('.') ? rel : `./${rel}`;
  const js = [`import cjs from '${from}';`, ...names.map((n) => `export const ${n} = cjs.${n};`), 'export default cjs;', ''];
  // Types: everything the CommonJS typings export (values and types), and the
  // default export Node gives an ES module importing CommonJS: module.exports.
  const dts = [`import cjs from '${from}';`, `export * from '${from}';`, 'export default cjs;', ''];
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, js.join('\n'));
  writeFileSync(out.replace(/\.mjs$/, '.d.mts'), dts.join('\n'));
}
console.log(`[esm] wrote ${entries.length} ESM entry points and their typings`);
