// The Node.js versions the package supports and `npm test` runs the JS suite
// under. The running Node is one of them; the others come from the npm
// registry's `node-<os>-<arch>` packages (the official binary inside the
// tarball), fetched once into .node-versions/ and reused.
//
// `node scripts/node-versions.mjs` fetches what is missing and prints one
// line per version: `<version> <path to node>`.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Supported majors; keep in step with `engines` in package.json and the workflow's matrix. */
export const SUPPORTED_MAJORS = [20, 22, 24];

const root = new URL('..', import.meta.url).pathname;
const store = join(root, '.node-versions');
const log = (msg) => console.log(`[node-versions] ${msg}`);
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], shell: process.platform === 'win32' });

/** The registry package holding this platform's binary (the registry names Windows `win`). */
function packageName() {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  return `node-${os}-${process.arch}`;
}

const binary = (dir) => join(dir, process.platform === 'win32' ? 'node.exe' : 'bin/node');

/** The newest release of `major` already fetched, if any. */
function fetched(major) {
  if (!existsSync(store)) return undefined;
  const versions = readdirSync(store)
    .filter((v) => v.startsWith(`${major}.`) && existsSync(binary(join(store, v))))
    .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  return versions[0];
}

/** Fetches the newest release of `major` unless one is in .node-versions/ already. */
function ensure(major) {
  const have = fetched(major);
  if (have !== undefined) return { version: have, node: binary(join(store, have)) };
  log(`fetching Node ${major} (${packageName()}@${major}) from the npm registry`);
  const work = mkdtempSync(join(tmpdir(), 'keyward-node-'));
  try {
    const [{ filename, version }] = JSON.parse(npm(['pack', `${packageName()}@${major}`, '--json', '--pack-destination', work], work));
    execFileSync('tar', ['xzf', join(work, filename), '-C', work], { stdio: 'inherit' });
    mkdirSync(store, { recursive: true });
    const target = join(store, version);
    rmSync(target, { recursive: true, force: true });
    renameSync(join(work, 'package'), target);
    chmodSync(binary(target), 0o755);
    return { version, node: binary(target) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every supported version: the running Node first, the others fetched when missing. */
export function nodeVersions() {
  const running = Number(process.versions.node.split('.')[0]);
  const others = SUPPORTED_MAJORS.filter((major) => major !== running).map(ensure);
  return [{ version: process.versions.node, node: process.execPath }, ...others];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { version, node } of nodeVersions()) console.log(`${version} ${node}`);
}
