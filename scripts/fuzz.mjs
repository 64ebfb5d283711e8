// `npm run fuzz -- [target] [seconds]`: coverage-guided fuzzing of the
// cores' parsers with cargo-fuzz (libFuzzer + AddressSanitizer). The targets
// are in crates/fuzz-cases (what each does) and fuzz/fuzz_targets (the
// libFuzzer entry points); their corpora are committed in fuzz/corpus.
//
//   npm run fuzz                      every target, 60 s each
//   npm run fuzz -- ratchet 600       one target for ten minutes
//   npm run fuzz -- --brief [seconds] every target, 10 s each (or as given), on a scratch copy
//                                     of its corpus (what CI runs: a regression shows,
//                                     the committed corpus is left as it is)
//   npm run fuzz -- --list            the targets
//
// A long run adds what it finds to fuzz/corpus/<target>; minimise before
// committing with `npm run fuzz -- --minimise <target>`. A crash leaves its
// input in fuzz/artifacts/<target>/ and fails the run.
//
// cargo-fuzz needs nightly compiler flags; on the stable toolchain they are
// unlocked with RUSTC_BOOTSTRAP=1 (the sanitizer runtimes ship with stable's
// standard library). cargo-fuzz itself is installed from crates.io into .tools/
// when missing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const CARGO_FUZZ = '0.13.2';
// cargo-fuzz is installed into the checkout (gitignored), not into ~/.cargo.
const tools = join(root, '.tools');
const env = { ...process.env, RUSTC_BOOTSTRAP: '1', PATH: `${join(tools, 'bin')}:${process.env.PATH}` };
// Limits for one input: seconds, and memory (the cores refuse costs above their
// caps before allocating; a larger allocation is a finding).
const LIBFUZZER_LIMITS = ['-timeout=20', '-rss_limit_mb=3072', '-malloc_limit_mb=3072', '-print_final_stats=1'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    brief: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    minimise: { type: 'boolean', default: false },
  },
});

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
  if (r.error) throw r.error;
  return r;
}

function targets() {
  return readdirSync(join(root, 'fuzz/fuzz_targets'))
    .filter((f) => f.endsWith('.rs'))
    .map((f) => f.slice(0, -3))
    .sort();
}

function ensureCargoFuzz() {
  const have = spawnSync('cargo', ['fuzz', '--version'], { encoding: 'utf8', env });
  if (have.status === 0 && have.stdout.includes(CARGO_FUZZ)) return;
  console.log(`installing cargo-fuzz ${CARGO_FUZZ} from crates.io`);
  if (run('cargo', ['install', 'cargo-fuzz', '--version', CARGO_FUZZ, '--locked', '--root', tools]).status !== 0) process.exit(1);
}

/** libFuzzer's final numbers, from its `-print_final_stats` lines and the last status line. */
function stats(output) {
  const execs = /stat::number_of_executed_units:\s*(\d+)/.exec(output)?.[1];
  const seconds = /Done \d+ runs in (\d+) second/.exec(output)?.[1];
  const status = [...output.matchAll(/#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/g)].at(-1);
  return {
    execs: Number(execs ?? 0),
    seconds: Number(seconds ?? 0),
    cov: Number(status?.[1] ?? 0),
    features: Number(status?.[2] ?? 0),
    corpus: Number(status?.[3] ?? 0),
  };
}

const all = targets();
if (values.list) {
  console.log(all.join('\n'));
  process.exit(0);
}
// `[target] [seconds]`, either may be left out.
const [only, secondsArg] = /^\d+$/.test(positionals[0] ?? '') ? [undefined, positionals[0]] : positionals;
if (only && !all.includes(only)) {
  console.error(`unknown fuzz target ${JSON.stringify(only)}; targets: ${all.join(', ')}`);
  process.exit(2);
}
const seconds = Number(secondsArg ?? (values.brief ? 10 : 60));
if (!Number.isInteger(seconds) || seconds < 1) {
  console.error('seconds must be a whole number of at least 1');
  process.exit(2);
}
ensureCargoFuzz();
const chosen = only ? [only] : all;

if (values.minimise) {
  for (const t of chosen) if (run('cargo', ['fuzz', 'cmin', '-O', t, `fuzz/corpus/${t}`]).status !== 0) process.exit(1);
  process.exit(0);
}

if (run('cargo', ['fuzz', 'build', '-O']).status !== 0) process.exit(1);
const rows = [];
let failed = false;
for (const t of chosen) {
  console.log(`\n=== fuzz ${t} (${seconds} s) ===`);
  // Brief runs write what they find to a scratch directory: the committed corpus is only read.
  const scratch = values.brief ? mkdtempSync(join(tmpdir(), `keyward-fuzz-${t}-`)) : null;
  const corpora = scratch ? [scratch, `fuzz/corpus/${t}`] : [`fuzz/corpus/${t}`];
  const r = run('cargo', ['fuzz', 'run', '-O', t, ...corpora, '--', `-max_total_time=${seconds}`, ...LIBFUZZER_LIMITS], { capture: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  const output = `${r.stdout}${r.stderr}`;
  const s = stats(output);
  const ok = r.status === 0;
  if (!ok) {
    failed = true;
    console.log(output.split('\n').slice(-60).join('\n'));
  }
  rows.push([t, ok, s]);
  console.log(`${t}: ${ok ? 'no crash' : 'FAILED'}; ${s.execs} execs in ${s.seconds} s, cov ${s.cov}, ft ${s.features}, corpus ${s.corpus}`);
}

console.log('\n| target | result | seconds | execs | execs/s | cov | ft | corpus |\n|---|---|---:|---:|---:|---:|---:|---:|');
for (const [t, ok, s] of rows) {
  console.log(
    `| ${t} | ${ok ? 'no crash' : 'crash'} | ${s.seconds} | ${s.execs} | ${s.seconds ? Math.round(s.execs / s.seconds) : 0} | ${s.cov} | ${s.features} | ${s.corpus} |`,
  );
}
process.exit(failed ? 1 : 0);
