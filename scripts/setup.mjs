// Brings a fresh clone to a runnable state: npm dependencies, the native
// addon (rebuilt when any Rust source is newer), and the compiled TypeScript.
// Every top-level command calls this first, so nothing has to be done by hand.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit', env: process.env });
const log = (msg) => console.log(`[setup] ${msg}`);

function newest(dir, pattern) {
  let latest = 0;
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'target' || entry.name === 'node_modules') continue;
      latest = Math.max(latest, newest(path, pattern));
    } else if (pattern.test(entry.name)) {
      latest = Math.max(latest, statSync(join(root, path)).mtimeMs);
    }
  }
  return latest;
}

const mtime = (path) => (existsSync(join(root, path)) ? statSync(join(root, path)).mtimeMs : 0);

// `npm ci`: exactly the lock, as CI and the workflow install it. The lock lists
// every platform's optional packages (npm test checks that `npm ci` accepts it
// under each supported Node), so this works on any of them.
const stamp = 'node_modules/.keyward-installed';
if (mtime(stamp) < Math.max(mtime('package.json'), mtime('package-lock.json'))) {
  log('installing npm dependencies (npm ci)');
  run('npm ci --no-audit --no-fund');
  writeFileSync(join(root, stamp), new Date().toISOString());
}

const addon = `native/keyward.${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}.node`;
const rustChanged = Math.max(newest('crates', /\.(rs|toml)$/), mtime('Cargo.toml'), mtime('Cargo.lock'));
if (mtime(addon) < rustChanged) {
  log('building the native addon (cargo, release)');
  run('npm run build:native');
} else {
  log('native addon is up to date');
}

if (mtime('dist/index.js') < Math.max(newest('src', /\.ts$/), mtime(addon))) {
  log('compiling TypeScript');
  run('npm run build:ts');
} else {
  log('compiled TypeScript is up to date');
}
