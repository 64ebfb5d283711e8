// `npm test`: formatting, lints, type checks, the Rust tests and the JS tests.
// Runs every step, then fails if any failed, printing one line per step.
import { spawnSync } from 'node:child_process';
import { startServices } from './services.mjs';

const root = new URL('..', import.meta.url).pathname;
const steps = [
  ['cargo fmt', 'cargo', ['fmt', '--all', '--check']],
  ['cargo clippy (cores)', 'cargo', ['clippy', '-p', 'keyward-argon2', '-p', 'keyward-opaque', '-p', 'keyward-pop', '-p', 'keyward-seal', '-p', 'keyward-session', '-p', 'keyward-aws-lc', '--all-targets', '--quiet', '--', '-D', 'warnings']],
  // The binding's test target has no napi registrations (it has no Rust tests), so lint its library only.
  ['cargo clippy (binding)', 'cargo', ['clippy', '-p', 'keyward-node', '--quiet', '--', '-D', 'warnings']],
  ['cargo test', 'cargo', ['test', '--workspace', '--quiet']],
  ['tsc --noEmit', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['ava', 'npx', ['ava']],
  ['npm pack + install without a compiler', 'node', ['scripts/pack-check.mjs']],
];

// The JS tests include store contracts and multi-instance tests against real
// PostgreSQL and Redis, started here on loopback and stopped after.
console.log('\n=== PostgreSQL and Redis for the tests ===');
const services = await startServices();
const results = [];
try {
  for (const [name, cmd, args] of steps) {
    console.log(`\n=== ${name} ===`);
    const started = Date.now();
    const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...services.env } });
    results.push([name, r.status === 0, ((Date.now() - started) / 1000).toFixed(1)]);
  }
} finally {
  await services.stop();
}

console.log('\n=== summary ===');
for (const [name, ok, secs] of results) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (${secs} s)`);
const failed = results.filter(([, ok]) => !ok).length;
console.log(`checks: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
