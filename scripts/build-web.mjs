// Builds `keyward/web`, the browser client (src/web), into one ES module that
// a bundler or a <script type="module"> loads: no native code, no Node
// built-ins; `@serenity-kit/opaque` stays an import (a peer dependency).
// `npm run build:ts` writes dist/web/index.mjs and its self-contained
// typings; the browser tests build the same into a scratch directory.

import { build } from 'tsup';

const root = new URL('..', import.meta.url).pathname;

/** Writes `<outDir>/index.mjs` (and `index.d.mts` with `dts`). */
export async function buildWeb({ outDir, dts = false }) {
  await build({
    entry: { index: `${root}src/web/index.ts` },
    outDir,
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    external: ['@serenity-kit/opaque'],
    dts: dts ? { entry: { index: `${root}src/web/index.ts` } } : false,
    tsconfig: `${root}tsconfig.json`,
    sourcemap: true,
    clean: false,
    silent: true,
    outExtension: () => ({ js: '.mjs' }),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildWeb({ outDir: `${root}dist/web`, dts: true });
}
