// After tsc (which writes the CommonJS build and its .d.ts to dist/, at the
// same depth as src/, so its paths to native/ need no rewriting): writes each
// ESM entry point, dist/<entry>.mjs, re-exporting the CommonJS build by name,
// with its own ESM typings, dist/<entry>.d.mts.
// One implementation behind both `require` and `import` means one copy of every
// class, so `instanceof` and the native objects agree whichever way a module was
// loaded (no dual-package hazard); the .d.mts files tell TypeScript under
// node16/nodenext/bundler that the `import` entries are ES modules (without them
// the .d.ts of the CommonJS build would "masquerade" as the ESM entry's types).

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);

// The entries of package.json "exports" (the CLI is CommonJS only: it is run, not imported).
const entries = ['index', 'serenity/index', 'serenity/p256', 'fastify/index', 'express/index', 'client/index', 'relay/index'];

for (const entry of entries) {
  const cjs = join(root, 'dist', `${entry}.js`);
  const names = Object.keys(require(cjs)).filter((n) => n !== 'default' && n !== '__esModule');
  const from = `./${basename(cjs)}`;
  const js = [`import cjs from '${from}';`, ...names.map((n) => `export const ${n} = cjs.${n};`), 'export default cjs;', ''];
  // Types: everything the CommonJS typings export (values and types), and the
  // default export Node gives an ES module importing CommonJS: module.exports.
  const dts = [`import cjs from '${from}';`, `export * from '${from}';`, 'export default cjs;', ''];
  writeFileSync(cjs.replace(/\.js$/, '.mjs'), js.join('\n'));
  writeFileSync(cjs.replace(/\.js$/, '.d.mts'), dts.join('\n'));
}
console.log(`[esm] wrote ${entries.length} ESM entry points and their typings`);
