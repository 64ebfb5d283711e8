// `npm test`: formatting, lints, type checks, the Rust tests, the lock check,
// and the JS tests under every supported Node version (scripts/node-versions.mjs).
// Runs every step, then fails if any failed, printing one line per step.
// `npm run lint` (`--lint`) runs the formatting, lint and type-check steps alone.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { nodeVersions } from './node-versions.mjs';
import { startServices } from './services.mjs';

const root = new URL('..', import.meta.url).pathname;

// npm's own CLI, to run under each Node: set by `npm test`, else found beside `npm` on PATH.
const npmCli = process.env.npm_execpath ?? realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
const lintOnly = process.argv.includes('--lint');
// The other Node versions are fetched once into .node-versions/; the lint run needs none.
const versions = lintOnly ? [] : nodeVersions();

/**
 * `npm ci` refuses a lock that lacks a platform's optional packages (npm
 * leaves out those whose engines exclude the Node it ran on). A dry run in a
 * scratch copy of the manifest and lock checks that without installing.
 */
function lockStep({ version, node }) {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-lock-'));
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(root, file), join(dir, file));
  const cache = join(dir, '.npm-cache');
  return [
    `npm ci accepts the lock (Node ${version})`,
    node,
    [npmCli, 'ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'],
    { cwd: dir, env: { npm_config_cache: cache }, cleanup: () => rmSync(dir, { recursive: true, force: true }) },
  ];
}

/** The ava suite under one Node; its child processes (process.execPath, `node` on PATH) use the same one. */
const avaStep = ({ version, node }) => [
  `ava (Node ${version})`,
  node,
  [join(root, 'node_modules/ava/entrypoints/cli.mjs')],
  { env: { PATH: `${dirname(node)}:${process.env.PATH}` } },
];

/** Formatting, lints and type checks: all of them with `--lint` (CI's lint job), before the tests otherwise. */
const lintSteps = [
  ['cargo fmt', 'cargo', ['fmt', '--all', '--check']],
  ['cargo clippy (cores)', 'cargo', ['clippy', '--workspace', '--exclude', 'keyward-node', '--all-targets', '--quiet', '--', '-D', 'warnings']],
  // The binding's test target has no napi registrations (it has no Rust tests), so lint its library only.
  ['cargo clippy (binding)', 'cargo', ['clippy', '-p', 'keyward-node', '--quiet', '--', '-D', 'warnings']],
  ['tsc --noEmit', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['biome (JS/TS lint and format)', 'npx', ['biome', 'ci', '.']],
];

const steps = lintOnly
  ? lintSteps
  : [
      ...lintSteps,
      ['cargo test', 'cargo', ['test', '--workspace', '--quiet']],
      ...versions.map(lockStep),
      ...versions.map(avaStep),
      ['npm pack + install without a compiler', 'node', ['scripts/pack-check.mjs']],
      // Each fuzz target briefly under libFuzzer on its committed corpus (docs/fuzzing.md).
      ['fuzz (every target, 5 s each)', 'node', ['scripts/fuzz.mjs', '--brief', '5']],
    ];

// The JS tests include store contracts and multi-instance tests against real
// PostgreSQL and Redis, started here on loopback and stopped after.
let services = { env: {}, stop: async () => {} };
if (!lintOnly) {
  console.log('\n=== PostgreSQL and Redis for the tests ===');
  services = await startServices();
}
/**
 * Runs one step with its output passed through as it comes, keeping the
 * lines that name a failed test (ava's `✘`, uncaught errors) and the first
 * lines of each failure's details (the assertion's message and its
 * difference, or the error thrown): a CI log may show only its tail, so the
 * summary repeats them.
 */
const FAILURE = /^(✘|Uncaught exception in|Unhandled rejection in)/;
/** Where ava's details of a failure start; DETAIL_LINES lines from there are kept. */
const DETAIL =
  /^(Difference \(|Error thrown in test|Rejected promise returned by test|Value is not|Value must match|Assertion failed|Timed out|Promise resolved with|Promise rejected with|Function threw|Function returned|Function did not throw)/;
/** ava's code excerpt (`99:   t.deepEqual(…)`) and source positions: not an assertion's message. */
const EXCERPT = /^(\d+:|›|at )|\.(ts|js|mjs):\d+/;
const DETAIL_LINES = 12;

function run(cmd, args, options) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...options, stdio: ['inherit', 'pipe', 'pipe'] });
    const failures = [];
    let partial = '';
    let detail = 0;
    let previous = '';
    const keep = (raw) => {
      const line = stripVTControlCharacters(raw).trimEnd();
      const bare = line.trim();
      if (FAILURE.test(bare)) failures.push(bare);
      else if (bare === '─') detail = 0;
      else if (DETAIL.test(bare)) {
        // The assertion's own message is the line before its difference.
        if (previous !== '' && !EXCERPT.test(previous)) failures.push(`  ${previous}`);
        failures.push(`  ${bare}`);
        detail = DETAIL_LINES;
      } else if (detail > 0 && bare !== '') {
        failures.push(`  ${line.slice(0, 1500)}`);
        detail--;
      }
      if (bare !== '') previous = bare.slice(0, 400);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const raw of lines) keep(raw);
    });
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    child.on('error', () => resolve({ ok: false, failures }));
    child.on('close', (status) => {
      keep(partial);
      resolve({ ok: status === 0, failures });
    });
  });
}

const results = [];
try {
  for (const [name, cmd, args, extra] of steps) {
    console.log(`\n=== ${name} ===`);
    const started = Date.now();
    const r = await run(cmd, args, { cwd: extra?.cwd ?? root, env: { ...process.env, ...services.env, ...extra?.env } });
    extra?.cleanup?.();
    results.push([name, r.ok, ((Date.now() - started) / 1000).toFixed(1), r.failures]);
  }
} finally {
  await services.stop();
}

console.log('\n=== summary ===');
for (const [name, ok, secs, failures] of results) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (${secs} s)`);
  if (ok) continue;
  for (const line of failures.slice(0, 60)) console.log(`       ${line}`);
  if (failures.length > 60) console.log(`       … and ${failures.length - 60} more`);
}
const failed = results.filter(([, ok]) => !ok).length;
if (!lintOnly) console.log(`node versions tested: ${versions.map((v) => v.version).join(', ')}`);
console.log(`checks: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
